/**
 * LogSoftmax in onnxruntime, encoded here rather than shipped as a file: the
 * runner turns logits into log-probabilities with it, since onnxruntime's
 * vectorised exponentials take a fraction of the time of a JS loop over the
 * vocabulary and exact mode normalises a dozen rows per completion.
 *
 * Two ways: appended to the model's own graph (withLogProbsOutput: the
 * rows come normalised out of the same session.run, no second call), or,
 * where that is not possible, a one-node graph of its own (logSoftmaxModel).
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

/** The output withLogProbsOutput adds: LogSoftmax of `logits` over the vocabulary. */
export const LOG_PROBS_OUTPUT = 'subword_log_probs';

/**
 * The second output withLogProbsOutput adds: Exp of LOG_PROBS_OUTPUT, the
 * probabilities themselves. Exact mode sums a row's probabilities by first
 * byte on every byte; onnxruntime's vectorised Exp is a few microseconds per
 * row where Math.exp over an 8k vocabulary is about 75.
 */
export const PROBS_OUTPUT = 'subword_probs';

/** A protobuf field as read by fields(): its number, wire type, and value (varint) or byte range (length-delimited). */
interface Field {
  readonly field: number;
  readonly wire: number;
  readonly value: number;
  readonly start: number;
  readonly end: number;
}

/** The fields of one protobuf message in bytes[start, end); throws on a malformed encoding. */
function* fields(bytes: Uint8Array, start = 0, end = bytes.length): Generator<Field> {
  let at = start;
  const readVarint = (): number => {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (at >= end) throw new Error('truncated protobuf');
      const b = bytes[at++]!;
      v += (b & 127) * scale;
      scale *= 128;
      if (b < 128) return v;
    }
    throw new Error('bad protobuf varint');
  };
  while (at < end) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) yield { field, wire, value: readVarint(), start: at, end: at };
    else if (wire === 2) {
      const len = readVarint();
      if (at + len > end) throw new Error('truncated protobuf');
      yield { field, wire, value: len, start: at, end: at + len };
      at += len;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > end) throw new Error('truncated protobuf');
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

/** The first length-delimited field `n` of a message, if any. */
function child(bytes: Uint8Array, range: { start: number; end: number }, n: number): Field | undefined {
  for (const f of fields(bytes, range.start, range.end)) if (f.field === n && f.wire === 2) return f;
  return undefined;
}

/**
 * Element type and rank of graph output `name` in ModelProto bytes (rank
 * undefined when the output has no shape), or undefined if there is none.
 * Only the graph's outputs are decoded; the weights are skipped over.
 */
export function graphOutputType(model: Uint8Array, name: string): { elemType: number; rank: number | undefined } | undefined {
  const text = new TextDecoder();
  // Every `graph` field: a parser merges repeated ones into one graph (withLogProbsOutput relies on it).
  for (const graph of fields(model)) {
    if (graph.field !== 7 || graph.wire !== 2) continue;
    for (const f of fields(model, graph.start, graph.end)) {
      if (f.field !== 12 || f.wire !== 2) continue;
      const nameField = child(model, f, 1);
      if (!nameField || text.decode(model.subarray(nameField.start, nameField.end)) !== name) continue;
      const tensorType = child(model, child(model, f, 2) ?? { start: 0, end: 0 }, 1);
      if (!tensorType) return undefined;
      let elemType = 0;
      let rank: number | undefined;
      for (const g of fields(model, tensorType.start, tensorType.end)) {
        if (g.field === 1 && g.wire === 0) elemType = g.value;
        if (g.field === 2 && g.wire === 2) rank = [...fields(model, g.start, g.end)].filter((d) => d.field === 1).length;
      }
      return { elemType, rank };
    }
  }
  return undefined;
}

/**
 * ModelProto bytes with two more nodes and outputs: LOG_PROBS_OUTPUT =
 * LogSoftmax(logits) over the last of its `rank` axes, and PROBS_OUTPUT =
 * Exp(LOG_PROBS_OUTPUT). The addition is a second `graph` field after the
 * model's bytes: a protobuf parser merges it into the first (its nodes and
 * outputs are appended), so the model's own bytes need no rewriting. The
 * nodes are last, after the one that makes the logits, so the graph stays in
 * topological order.
 */
export function withLogProbsOutput(model: Uint8Array, rank: number): Uint8Array {
  const logSoftmax = [...message(1, utf8('logits')), ...message(2, utf8(LOG_PROBS_OUTPUT)), ...message(4, utf8('LogSoftmax')), ...message(5, [...message(1, utf8('axis')), ...integer(3, rank - 1), ...integer(20, 2)])];
  const exp = [...message(1, utf8(LOG_PROBS_OUTPUT)), ...message(2, utf8(PROBS_OUTPUT)), ...message(4, utf8('Exp'))];
  // The outputs' type without a shape: onnxruntime infers it.
  const output = (name: string) => message(12, [...message(1, utf8(name)), ...message(2, message(1, integer(1, FLOAT)))]);
  const extra = Uint8Array.from(message(7, [...message(1, logSoftmax), ...message(1, exp), ...output(LOG_PROBS_OUTPUT), ...output(PROBS_OUTPUT)]));
  const out = new Uint8Array(model.length + extra.length);
  out.set(model, 0);
  out.set(extra, model.length);
  return out;
}
