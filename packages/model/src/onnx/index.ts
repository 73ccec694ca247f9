// Barrel for the ONNX writer, so reference graphs import one module.
export { f32Bytes, GraphBuilder, IR_VERSION, OPSET_VERSION } from "./graph-builder.js";
export type { AttrValue, DataTypeCode, Dim, GraphDef, ModelDef, NodeDef, TensorInit, ValueInfo } from "./onnx-types.js";
export { attr, DataType } from "./onnx-types.js";
export { Prng } from "./prng.js";
export { serializeModel } from "./serialize-model.js";
