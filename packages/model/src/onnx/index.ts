// Barrel for the ONNX writer, so reference graphs import one module.
export { GraphBuilder, IR_VERSION, OPSET_VERSION, f32Bytes } from './graph-builder.js';
export { DataType, attr } from './onnx-types.js';
export type { AttrValue, DataTypeCode, Dim, GraphDef, ModelDef, NodeDef, TensorInit, ValueInfo } from './onnx-types.js';
export { serializeModel } from './serialize-model.js';
export { Prng } from './prng.js';
