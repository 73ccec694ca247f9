import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { AttrValue, GraphDef, ModelDef, NodeDef, TensorInit, ValueInfo } from "./onnx-types.js";

// Field numbers from onnx.proto (they are part of the file format, so they are fixed here by hand).
const MODEL = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 } as const;
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const ATTR = { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, type: 20 } as const;
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE_PROTO = { tensorType: 1 } as const;
const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIMENSION = { dimValue: 1, dimParam: 2 } as const;
const OPSET = { domain: 1, version: 2 } as const;

/** Serialises a model to ONNX ModelProto bytes. Field order is fixed, so equal input gives equal bytes. */
export function serializeModel(model: ModelDef): Uint8Array {
  const w = new BinaryWriter();
  w.tag(MODEL.irVersion, WireType.Varint).int64(model.irVersion);
  w.tag(MODEL.producerName, WireType.LengthDelimited).string(model.producerName);
  w.tag(MODEL.graph, WireType.LengthDelimited).fork();
  writeGraph(w, model.graph);
  w.join();
  w.tag(MODEL.opsetImport, WireType.LengthDelimited).fork();
  w.tag(OPSET.domain, WireType.LengthDelimited).string("");
  w.tag(OPSET.version, WireType.Varint).int64(model.opsetVersion);
  w.join();
  return w.finish();
}

function writeGraph(w: BinaryWriter, g: GraphDef): void {
  for (const n of g.nodes) {
    w.tag(GRAPH.node, WireType.LengthDelimited).fork();
    writeNode(w, n);
    w.join();
  }
  w.tag(GRAPH.name, WireType.LengthDelimited).string(g.name);
  for (const t of g.initializers) {
    w.tag(GRAPH.initializer, WireType.LengthDelimited).fork();
    writeTensor(w, t);
    w.join();
  }
  for (const v of g.inputs) writeValueInfo(w, GRAPH.input, v);
  for (const v of g.outputs) writeValueInfo(w, GRAPH.output, v);
}

function writeNode(w: BinaryWriter, n: NodeDef): void {
  for (const i of n.inputs) w.tag(NODE.input, WireType.LengthDelimited).string(i);
  for (const o of n.outputs) w.tag(NODE.output, WireType.LengthDelimited).string(o);
  w.tag(NODE.name, WireType.LengthDelimited).string(n.name);
  w.tag(NODE.opType, WireType.LengthDelimited).string(n.opType);
  // Sorted names keep bytes independent of object key insertion order.
  for (const name of Object.keys(n.attributes).sort()) {
    const a = n.attributes[name];
    if (a === undefined) continue;
    w.tag(NODE.attribute, WireType.LengthDelimited).fork();
    writeAttribute(w, name, a);
    w.join();
  }
  if (n.domain !== undefined && n.domain !== "") w.tag(NODE.domain, WireType.LengthDelimited).string(n.domain);
}

function writeAttribute(w: BinaryWriter, name: string, a: AttrValue): void {
  w.tag(ATTR.name, WireType.LengthDelimited).string(name);
  switch (a.kind) {
    case "float":
      w.tag(ATTR.f, WireType.Bit32).float(a.value);
      break;
    case "int":
      w.tag(ATTR.i, WireType.Varint).int64(a.value);
      break;
    case "string":
      w.tag(ATTR.s, WireType.LengthDelimited).bytes(new TextEncoder().encode(a.value));
      break;
    case "tensor":
      w.tag(ATTR.t, WireType.LengthDelimited).fork();
      writeTensor(w, a.value);
      w.join();
      break;
    case "floats":
      // onnx.proto is proto2: repeated scalars unpacked, one tag per element.
      for (const v of a.value) w.tag(ATTR.floats, WireType.Bit32).float(v);
      break;
    case "ints":
      for (const v of a.value) w.tag(ATTR.ints, WireType.Varint).int64(v);
      break;
  }
  w.tag(ATTR.type, WireType.Varint).int32(ATTR_TYPE[a.kind]);
}

function writeTensor(w: BinaryWriter, t: TensorInit): void {
  for (const d of t.dims) w.tag(TENSOR.dims, WireType.Varint).int64(d);
  w.tag(TENSOR.dataType, WireType.Varint).int32(t.elemType);
  w.tag(TENSOR.name, WireType.LengthDelimited).string(t.name);
  w.tag(TENSOR.rawData, WireType.LengthDelimited).bytes(t.raw);
}

function writeValueInfo(w: BinaryWriter, field: number, v: ValueInfo): void {
  w.tag(field, WireType.LengthDelimited).fork();
  w.tag(VALUE_INFO.name, WireType.LengthDelimited).string(v.name);
  w.tag(VALUE_INFO.type, WireType.LengthDelimited).fork();
  w.tag(TYPE_PROTO.tensorType, WireType.LengthDelimited).fork();
  w.tag(TENSOR_TYPE.elemType, WireType.Varint).int32(v.elemType);
  w.tag(TENSOR_TYPE.shape, WireType.LengthDelimited).fork();
  for (const d of v.dims) {
    w.tag(SHAPE.dim, WireType.LengthDelimited).fork();
    if (typeof d === "number") w.tag(DIMENSION.dimValue, WireType.Varint).int64(d);
    else w.tag(DIMENSION.dimParam, WireType.LengthDelimited).string(d);
    w.join();
  }
  w.join(); // shape
  w.join(); // tensor_type
  w.join(); // type
  w.join(); // value_info
}
