import assert from "node:assert/strict";
import { test } from "node:test";
import * as ort from "onnxruntime-node";
import { attr, DataType, GraphBuilder } from "./index.js";

function tinyGraph(): Uint8Array {
  // y = Softmax(x @ W + b) with W, b fixed; z = Cast(Relu(x) * 100, uint8) to exercise an int attribute and a second output.
  const g = new GraphBuilder("tiny", 1);
  const x = g.input("x", DataType.FLOAT, ["batch", 2]);
  const w = g.constF32([1, 2, 3, 4], [2, 2]);
  const b = g.constF32([0, 1], [2]);
  const logits = g.op("Add", [g.op("MatMul", [x, w]), b]);
  g.output("y", g.op("Softmax", [logits], { axis: attr.i(-1) }), DataType.FLOAT, ["batch", 2]);
  const scaled = g.op("Mul", [g.op("Relu", [x]), g.constF32([100], [])]);
  g.output("z", g.op("Cast", [scaled], { to: attr.i(DataType.UINT8) }), DataType.UINT8, ["batch", 2]);
  return g.toBytes();
}

test("onnxruntime loads a written graph and computes the right values", async () => {
  const session = await ort.InferenceSession.create(tinyGraph());
  assert.deepEqual(session.inputNames, ["x"]);
  assert.deepEqual(session.outputNames, ["y", "z"]);
  const x = new ort.Tensor("float32", Float32Array.from([1, 0, -1, 2]), [2, 2]);
  const out = await session.run({ x });
  const y = out.y?.data as Float32Array;
  // Row 0: [1,0]@W + b = [1,3]; row 1: [-1,2]@W + b = [5,7]: logits differ by 2 in both rows.
  const e = Math.exp(2);
  const expected = [1 / (1 + e), e / (1 + e), 1 / (1 + e), e / (1 + e)];
  Array.from(y).forEach((v, i) => {
    assert.ok(Math.abs(v - (expected[i] ?? 0)) < 1e-6, `y[${i}] = ${v}`);
  });
  assert.deepEqual(Array.from(out.z?.data as Uint8Array), [100, 0, 0, 200]);
  await session.release();
});

test("the writer is deterministic", () => {
  assert.deepEqual(tinyGraph(), tinyGraph());
});

test("named dynamic dims are visible to onnxruntime", async () => {
  const session = await ort.InferenceSession.create(tinyGraph());
  const meta = session.inputMetadata[0];
  assert.ok(meta?.isTensor);
  if (meta?.isTensor) assert.deepEqual(meta.shape, ["batch", 2]);
  await session.release();
});
