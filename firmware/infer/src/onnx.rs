//! A small builder for ONNX models over `tract_onnx::pb` (the ONNX protobuf types), used by the
//! conformance suite and the tests; the int8 quantizer will write its models through it too.
//!
//! The bytes it writes are deterministic: the same graph always encodes to the same file, which is
//! what lets the conformance fixtures record a sha256 of each model.

use prost::Message;
use tract_onnx::pb;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};

/// The operator set the builder declares (tract is tested against 9 to 18).
pub const OPSET: i64 = 13;
/// The ONNX IR version written (IR 8 goes with opset 13-18).
pub const IR_VERSION: i64 = 8;

/// A dimension of a graph input or output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(i64),
    /// A named symbolic size (e.g. `"N"` for the batch).
    Symbol(String),
}

impl From<i64> for Dim {
    fn from(v: i64) -> Self {
        Self::Fixed(v)
    }
}

impl From<&str> for Dim {
    fn from(v: &str) -> Self {
        Self::Symbol(v.to_owned())
    }
}

/// A node attribute value.
#[derive(Clone, Debug)]
pub enum Attr {
    /// One integer.
    Int(i64),
    /// A list of integers.
    Ints(Vec<i64>),
    /// One float.
    Float(f32),
    /// A list of floats.
    Floats(Vec<f32>),
    /// A string.
    Str(String),
}

/// Builds one ONNX graph and encodes it as a model file.
#[derive(Clone, Debug, Default)]
pub struct GraphBuilder {
    graph: pb::GraphProto,
    extra_opsets: Vec<(String, i64)>,
}

impl GraphBuilder {
    /// An empty graph called `name`.
    pub fn new(name: &str) -> Self {
        Self {
            graph: pb::GraphProto {
                name: name.to_owned(),
                ..Default::default()
            },
            extra_opsets: Vec::new(),
        }
    }

    /// Declares a graph input of `elem_type` (an ONNX `DataType`).
    pub fn input_typed(&mut self, name: &str, elem_type: DataType, shape: &[Dim]) -> &mut Self {
        self.graph
            .input
            .push(value_info(name, elem_type as i32, Some(shape)));
        self
    }

    /// Declares an f32 graph input.
    pub fn input(&mut self, name: &str, shape: &[i64]) -> &mut Self {
        let dims: Vec<Dim> = shape.iter().map(|d| Dim::Fixed(*d)).collect();
        self.input_typed(name, DataType::Float, &dims)
    }

    /// Declares an f32 graph output of `shape` (onnx.checker wants output shapes; tract infers
    /// them and ignores the declared ones).
    pub fn output(&mut self, name: &str, shape: &[i64]) -> &mut Self {
        let dims: Vec<Dim> = shape.iter().map(|d| Dim::Fixed(*d)).collect();
        self.graph
            .output
            .push(value_info(name, DataType::Float as i32, Some(&dims)));
        self
    }

    /// Adds an f32 initializer (a weight).
    pub fn initializer(&mut self, name: &str, dims: &[i64], data: &[f32]) -> &mut Self {
        self.graph.initializer.push(f32_tensor(name, dims, data));
        self
    }

    /// Adds an i64 initializer (shapes, axes).
    pub fn initializer_i64(&mut self, name: &str, dims: &[i64], data: &[i64]) -> &mut Self {
        self.graph.initializer.push(pb::TensorProto {
            name: name.to_owned(),
            dims: dims.to_vec(),
            data_type: DataType::Int64 as i32,
            int64_data: data.to_vec(),
            ..Default::default()
        });
        self
    }

    /// Adds a node of the default (`ai.onnx`) domain.
    pub fn node(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: &[(&str, Attr)],
    ) -> &mut Self {
        self.node_in_domain("", op_type, inputs, outputs, attrs)
    }

    /// Adds a node of `domain` (declaring the domain's opset 1 if it is not the default one).
    pub fn node_in_domain(
        &mut self,
        domain: &str,
        op_type: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: &[(&str, Attr)],
    ) -> &mut Self {
        if !domain.is_empty() && !self.extra_opsets.iter().any(|(d, _)| d == domain) {
            self.extra_opsets.push((domain.to_owned(), 1));
        }
        let name = format!("{}_{}", op_type.to_lowercase(), self.graph.node.len());
        self.graph.node.push(pb::NodeProto {
            name,
            op_type: op_type.to_owned(),
            domain: domain.to_owned(),
            input: inputs.iter().map(|s| (*s).to_owned()).collect(),
            output: outputs.iter().map(|s| (*s).to_owned()).collect(),
            attribute: attrs.iter().map(|(n, a)| attribute(n, a)).collect(),
            ..Default::default()
        });
        self
    }

    /// The graph as a `ModelProto`.
    pub fn model(&self) -> pb::ModelProto {
        let mut opset_import = vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }];
        opset_import.extend(self.extra_opsets.iter().map(|(domain, version)| {
            pb::OperatorSetIdProto {
                domain: domain.clone(),
                version: *version,
            }
        }));
        pb::ModelProto {
            ir_version: IR_VERSION,
            opset_import,
            producer_name: "sentio-infer".to_owned(),
            producer_version: env!("CARGO_PKG_VERSION").to_owned(),
            graph: Some(self.graph.clone()),
            ..Default::default()
        }
    }

    /// The encoded model file.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.model().encode_to_vec()
    }
}

/// Encodes a `ModelProto` as model file bytes.
pub fn encode(model: &pb::ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

fn value_info(name: &str, elem_type: i32, shape: Option<&[Dim]>) -> pb::ValueInfoProto {
    let shape = shape.map(|dims| pb::TensorShapeProto {
        dim: dims
            .iter()
            .map(|d| Dimension {
                denotation: String::new(),
                value: Some(match d {
                    Dim::Fixed(v) => dimension::Value::DimValue(*v),
                    Dim::Symbol(s) => dimension::Value::DimParam(s.clone()),
                }),
            })
            .collect(),
    });
    pb::ValueInfoProto {
        name: name.to_owned(),
        r#type: Some(pb::TypeProto {
            denotation: String::new(),
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type,
                shape,
            })),
        }),
        ..Default::default()
    }
}

/// An f32 tensor stored as little-endian `raw_data`.
pub(crate) fn f32_tensor(name: &str, dims: &[i64], data: &[f32]) -> pb::TensorProto {
    // raw_data (little-endian) is what exporters write; both tract and onnxruntime read it.
    let raw_data = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    pb::TensorProto {
        name: name.to_owned(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        raw_data,
        ..Default::default()
    }
}

fn attribute(name: &str, attr: &Attr) -> pb::AttributeProto {
    let mut a = pb::AttributeProto {
        name: name.to_owned(),
        ..Default::default()
    };
    match attr {
        Attr::Int(v) => {
            a.r#type = AttributeType::Int as i32;
            a.i = *v;
        }
        Attr::Ints(v) => {
            a.r#type = AttributeType::Ints as i32;
            a.ints = v.clone();
        }
        Attr::Float(v) => {
            a.r#type = AttributeType::Float as i32;
            a.f = *v;
        }
        Attr::Floats(v) => {
            a.r#type = AttributeType::Floats as i32;
            a.floats = v.clone();
        }
        Attr::Str(v) => {
            a.r#type = AttributeType::String as i32;
            a.s = v.as_bytes().to_vec();
        }
    }
    a
}

/// A deterministic pseudo-random generator for weights and inputs (sentio-rng's): the same seed
/// gives the same numbers on every platform.
pub use sentio_rng::SplitMix64;
