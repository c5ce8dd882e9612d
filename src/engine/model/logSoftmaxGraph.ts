/**
 * A one-node ONNX graph, LogSoftmax over the last axis of a float32
 * [rows, width] input, encoded here rather than shipped as a file. The
 * runner turns logits into log-probabilities with it: onnxruntime's
 * vectorised exponentials take a fraction of the time of a JS loop over the
 * vocabulary, and exact mode normalises a dozen rows per completion.
 */

/** Protobuf varint (non-negative integers only, which is all this graph needs). */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];
/** A length-delimited field (wire type 2): strings and embedded messages. */
const message = (field: number, bytes: readonly number[]): number[] => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
/** A varint field (wire type 0). */
const integer = (field: number, value: number): number[] => [...varint(field << 3), ...varint(value)];

/** ONNX TensorProto.DataType FLOAT. */
const FLOAT = 1;

/**
 * ModelProto bytes for y = LogSoftmax(x, axis = -1), x and y float32
 * [rows, width] with `rows` dynamic (opset 13, where -1 is the default axis).
 */
export function logSoftmaxModel(width: number): Uint8Array {
  // TensorShapeProto: dim { dim_param "rows" } dim { dim_value width }.
  const shape = [...message(1, message(2, utf8('rows'))), ...message(1, integer(1, width))];
  // TypeProto { tensor_type { elem_type, shape } }.
  const type = message(1, [...integer(1, FLOAT), ...message(2, shape)]);
  const valueInfo = (name: string) => [...message(1, utf8(name)), ...message(2, type)];
  // NodeProto { input "x", output "y", op_type "LogSoftmax" }.
  const node = [...message(1, utf8('x')), ...message(2, utf8('y')), ...message(4, utf8('LogSoftmax'))];
  // GraphProto { node, name, input, output }.
  const graph = [...message(1, node), ...message(2, utf8('log_softmax')), ...message(11, valueInfo('x')), ...message(12, valueInfo('y'))];
  // ModelProto { ir_version 8, graph, opset_import { domain "", version 13 } }.
  return Uint8Array.from([...integer(1, 8), ...message(7, graph), ...message(8, integer(2, 13))]);
}
