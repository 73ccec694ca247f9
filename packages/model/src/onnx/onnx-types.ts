// Plain data shapes for the subset of onnx.proto this package writes.
// Field numbers live in serialize-model.ts; these types only describe content.

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** A dimension is a fixed size or a symbolic name (dim_param). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: DataTypeCode;
  dims: Dim[];
}

export interface TensorInit {
  name: string;
  elemType: DataTypeCode;
  dims: number[];
  /** Little-endian raw bytes, exactly as stored in TensorProto.raw_data. */
  raw: Uint8Array;
}

export type AttrValue =
  | { kind: "float"; value: number }
  | { kind: "int"; value: number }
  | { kind: "string"; value: string }
  | { kind: "floats"; value: number[] }
  | { kind: "ints"; value: number[] }
  | { kind: "tensor"; value: TensorInit };

export interface NodeDef {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttrValue>;
  domain?: string;
}

export interface GraphDef {
  name: string;
  nodes: NodeDef[];
  initializers: TensorInit[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface ModelDef {
  irVersion: number;
  producerName: string;
  opsetVersion: number;
  graph: GraphDef;
}

/** Attribute constructors: ONNX attributes need an explicit type, and JS numbers do not say int vs float. */
export const attr = {
  f: (value: number): AttrValue => ({ kind: "float", value }),
  i: (value: number): AttrValue => ({ kind: "int", value }),
  s: (value: string): AttrValue => ({ kind: "string", value }),
  floats: (value: number[]): AttrValue => ({ kind: "floats", value }),
  ints: (value: number[]): AttrValue => ({ kind: "ints", value }),
  t: (value: TensorInit): AttrValue => ({ kind: "tensor", value }),
};
