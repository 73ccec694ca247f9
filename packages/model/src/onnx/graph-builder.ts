import {
  type AttrValue,
  DataType,
  type DataTypeCode,
  type Dim,
  type NodeDef,
  type TensorInit,
  type ValueInfo,
} from "./onnx-types.js";
import { Prng } from "./prng.js";
import { serializeModel } from "./serialize-model.js";

export const IR_VERSION = 10;
export const OPSET_VERSION = 21;

/**
 * Small imperative builder for ONNX graphs. Every tensor name is derived from a counter and the
 * current scope, and weights come from one seeded PRNG consumed in call order, so building the
 * same graph twice yields the same bytes.
 */
export class GraphBuilder {
  private readonly nodes: NodeDef[] = [];
  private readonly initializers: TensorInit[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly scopes: string[] = [];
  private readonly usedNames = new Set<string>();
  private counter = 0;
  readonly rng: Prng;

  constructor(
    readonly name: string,
    seed: number,
  ) {
    this.rng = new Prng(seed);
  }

  /** Runs `fn` with `prefix` added to generated names, so the graph reads like module paths (blocks.0.attn...). */
  scope<T>(prefix: string, fn: () => T): T {
    this.scopes.push(prefix);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  input(name: string, elemType: DataTypeCode, dims: Dim[]): string {
    this.claim(name);
    this.inputs.push({ name, elemType, dims });
    return name;
  }

  /** Declares a graph output; `source` is renamed through Identity so outputs keep contract names. */
  output(name: string, source: string, elemType: DataTypeCode, dims: Dim[]): void {
    this.claim(name);
    this.nodes.push({
      opType: "Identity",
      name: `${name}_identity`,
      inputs: [source],
      outputs: [name],
      attributes: {},
    });
    this.outputs.push({ name, elemType, dims });
  }

  /** Adds a node with one output and returns that output's name. */
  op(opType: string, inputs: string[], attributes: Record<string, AttrValue> = {}): string {
    const [out] = this.opN(opType, inputs, 1, attributes);
    if (out === undefined) throw new Error("unreachable: opN returned no output");
    return out;
  }

  /** Adds a node with `count` outputs. */
  opN(opType: string, inputs: string[], count: number, attributes: Record<string, AttrValue> = {}): string[] {
    const base = this.fresh(opType);
    const outputs = Array.from({ length: count }, (_, i) => (count === 1 ? base : `${base}:${i}`));
    this.nodes.push({ opType, name: base, inputs, outputs, attributes });
    return outputs;
  }

  constF32(values: ArrayLike<number>, dims: number[]): string {
    return this.addInit(this.fresh("const"), DataType.FLOAT, dims, f32Bytes(Float32Array.from(values)));
  }

  constI64(values: number[], dims: number[] = [values.length]): string {
    return this.addInit(this.fresh("const"), DataType.INT64, dims, i64Bytes(values));
  }

  /** Weight drawn uniformly from [-bound, bound] (PyTorch's default Linear init is this with bound 1/sqrt(fan_in)). */
  uniformWeight(name: string, dims: number[], bound: number): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (this.rng.uniform() * 2 - 1) * bound;
    return this.addInit(this.scoped(name), DataType.FLOAT, dims, f32Bytes(data));
  }

  /** Weight with explicit values (fixed filters, norms' unit scales, frequency tables). */
  fixedWeight(name: string, dims: number[], data: Float32Array): string {
    return this.addInit(this.scoped(name), DataType.FLOAT, dims, f32Bytes(data));
  }

  toBytes(): Uint8Array {
    return serializeModel({
      irVersion: IR_VERSION,
      producerName: "@t2v/model",
      opsetVersion: OPSET_VERSION,
      graph: {
        name: this.name,
        nodes: this.nodes,
        initializers: this.initializers,
        inputs: this.inputs,
        outputs: this.outputs,
      },
    });
  }

  private addInit(name: string, elemType: DataTypeCode, dims: number[], raw: Uint8Array): string {
    this.claim(name);
    this.initializers.push({ name, elemType, dims, raw });
    return name;
  }

  private fresh(kind: string): string {
    this.counter += 1;
    return this.scoped(`${kind}_${this.counter}`);
  }

  private scoped(name: string): string {
    return this.scopes.length === 0 ? name : `${this.scopes.join(".")}.${name}`;
  }

  private claim(name: string): void {
    if (this.usedNames.has(name)) throw new Error(`duplicate tensor name in graph ${this.name}: ${name}`);
    this.usedNames.add(name);
  }
}

/** Little-endian float32 bytes, written explicitly so the output does not depend on host byte order. */
export function f32Bytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] ?? 0, true);
  return out;
}

function i64Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    view.setBigInt64(i * 8, BigInt(v), true);
  });
  return out;
}
