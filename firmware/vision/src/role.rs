//! What every model role checks before a model takes it (the expression model, the emoji model,
//! the ANP tagger, the speech model): the manifest's task, its labels, its input, a load with a
//! smoke run and one score per label; and the one error that says which check failed.
//!
//! Each role is a `ROLE` constant beside the type that runs it ([`crate::expression::ROLE`],
//! [`crate::sketch::ROLE`], [`crate::anp::ROLE`], sentiod's speech model), so a model brought
//! for the wrong role is refused with the same words wherever it is loaded.

use sentio_infer::{LoadOptions, Model};
use sentio_models::{LabelSet, LabelSpec, Manifest, Task};

/// Why a model cannot take a role. Each names the model and says what to do.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RoleError {
    #[error("{origin}: its task is {task:?}, not {want:?}")]
    #[diagnostic(
        code(data::model::wrong_task),
        help("flash it under the name its task serves, or fix the manifest's task")
    )]
    WrongTask {
        origin: String,
        task: String,
        want: String,
    },
    #[error("{origin}: its labels are {} {:?}; {role} must give {rule}", .labels.set, .labels.labels)]
    #[diagnostic(code(data::model::wrong_labels))]
    WrongLabels {
        origin: String,
        role: &'static str,
        /// The manifest's labels (boxed: this error travels in every `Result` of a load).
        labels: Box<LabelSpec>,
        /// What the role accepts.
        rule: LabelRule,
        #[help]
        help: &'static str,
    },
    #[error("{origin}: {role}'s input {shape:?} is not {want}")]
    #[diagnostic(code(data::model::wrong_input))]
    WrongInput {
        origin: String,
        role: &'static str,
        shape: Vec<usize>,
        want: &'static str,
        #[help]
        help: &'static str,
    },
    #[error("{origin}: the model gives {got} scores, its manifest lists {want} labels")]
    #[diagnostic(
        code(data::model::output_size),
        help(
            "the manifest does not describe this model; write it again with `sentio manifest init`"
        )
    )]
    OutputSize {
        origin: String,
        got: usize,
        want: usize,
    },
    #[error("{origin}: {source}")]
    #[diagnostic(code(data::model::infer))]
    Infer {
        origin: String,
        /// Boxed: the runtime's error is large, and this one travels in every `Result`.
        #[diagnostic_source]
        source: Box<sentio_infer::Error>,
    },
}

impl RoleError {
    /// The runtime's error for the model from `origin`.
    pub fn infer(origin: &str, source: sentio_infer::Error) -> RoleError {
        RoleError::Infer {
            origin: origin.to_string(),
            source: Box::new(source),
        }
    }
}

/// Which labels a role takes.
#[derive(Clone, Copy, Debug)]
pub enum LabelRule {
    /// Exactly this set, in its order (the output is read by index).
    Exactly(&'static LabelSet),
    /// One or more of this set's labels, in any order (the output is read by name).
    AnyOf(&'static LabelSet),
}

impl LabelRule {
    fn holds(self, manifest: &Manifest) -> bool {
        let labels = &manifest.labels.labels;
        match self {
            LabelRule::Exactly(set) => manifest.labels.are(set),
            LabelRule::AnyOf(set) => {
                !labels.is_empty() && labels.iter().all(|l| set.index_of(l).is_some())
            }
        }
    }
}

/// What the role accepts, with the labels it wants.
impl std::fmt::Display for LabelRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LabelRule::Exactly(set) => {
                write!(f, "the {} labels in order {:?}", set.name, set.labels)
            }
            LabelRule::AnyOf(set) => write!(f, "{} labels, each one of {:?}", set.name, set.labels),
        }
    }
}

/// A role a model can take on the device or the host, and what the model must be to take it.
#[derive(Clone, Debug)]
pub struct Role {
    /// The role as errors name it: "the expression model".
    pub name: &'static str,
    /// The task the manifest must name (a `custom` task is taken by any role).
    pub task: Task,
    /// The labels it must give.
    pub labels: LabelRule,
    /// What to do about wrong labels.
    pub labels_help: &'static str,
    /// The input it must take, said to a person: "a one-channel image [1, 1, H, W]".
    pub input: &'static str,
    /// What to do about a wrong input.
    pub input_help: &'static str,
}

impl Role {
    /// Checks the manifest's task and labels, without loading the model. The input is the
    /// caller's to check ([`Role::wrong_input`]): each role takes a different shape.
    pub fn check_manifest(&self, manifest: &Manifest, origin: &str) -> Result<(), RoleError> {
        if !(manifest.task == self.task || manifest.task == Task::Custom) {
            return Err(RoleError::WrongTask {
                origin: origin.to_string(),
                task: manifest.task.to_string(),
                want: self.task.to_string(),
            });
        }
        if !self.labels.holds(manifest) {
            return Err(RoleError::WrongLabels {
                origin: origin.to_string(),
                role: self.name,
                labels: Box::new(manifest.labels.clone()),
                rule: self.labels,
                help: self.labels_help,
            });
        }
        Ok(())
    }

    /// The error for a model whose input is not what this role takes.
    pub fn wrong_input(&self, origin: &str, shape: &[usize]) -> RoleError {
        RoleError::WrongInput {
            origin: origin.to_string(),
            role: self.name,
            shape: shape.to_vec(),
            want: self.input,
            help: self.input_help,
        }
    }

    /// Loads the ONNX bytes with a smoke run and checks [`Role::check_outputs`]. Call
    /// [`Role::check_manifest`] first.
    pub fn load(
        &self,
        manifest: &Manifest,
        onnx: &[u8],
        origin: &str,
        options: &LoadOptions,
    ) -> Result<Model, RoleError> {
        let model = Model::load(onnx, &options.clone().manifest(manifest).smoke_run(true))
            .map_err(|source| RoleError::infer(origin, source))?;
        self.check_outputs(&model, manifest, origin)?;
        Ok(model)
    }

    /// Checks that the model gives one score per label of its manifest.
    pub fn check_outputs(
        &self,
        model: &Model,
        manifest: &Manifest,
        origin: &str,
    ) -> Result<(), RoleError> {
        let got = model.first_output_len();
        let want = manifest.labels.labels.len();
        if got != want {
            return Err(RoleError::OutputSize {
                origin: origin.to_string(),
                got,
                want,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use miette::Diagnostic;
    use sentio_models::{DType, FER7, InputSpec, LabelSpec, Precision, Preprocessing, SER8, Task};

    use super::*;

    fn manifest(task: Task, set: &str, labels: &[&str]) -> Manifest {
        let input = InputSpec {
            shape: vec![1, 1, 48, 48],
            dtype: DType::F32,
            preprocessing: Preprocessing::default(),
            extra: Default::default(),
        };
        Manifest::new(
            "m",
            "1.0.0",
            task,
            LabelSpec::new(set, labels),
            input,
            Precision::F32,
        )
    }

    fn role(labels: LabelRule) -> Role {
        Role {
            name: "the test model",
            task: Task::Fer,
            labels,
            labels_help: "fix the labels",
            input: "a picture",
            input_help: "give a picture",
        }
    }

    #[test]
    fn the_task_must_be_the_roles_or_custom() {
        let fer = role(LabelRule::Exactly(&FER7));
        assert!(
            fer.check_manifest(&manifest(Task::Fer, "fer7", FER7.labels), "m")
                .is_ok()
        );
        assert!(
            fer.check_manifest(&manifest(Task::Custom, "x", FER7.labels), "m")
                .is_ok()
        );
        let e = fer
            .check_manifest(&manifest(Task::Ser, "fer7", FER7.labels), "a.onnx")
            .unwrap_err();
        assert_eq!(e.to_string(), "a.onnx: its task is \"ser\", not \"fer\"");
        assert_eq!(e.code().unwrap().to_string(), "data::model::wrong_task");
        assert!(e.help().is_some());
    }

    #[test]
    fn exact_labels_must_be_in_order_and_any_of_takes_a_subset_in_any_order() {
        let exact = role(LabelRule::Exactly(&FER7));
        let mut reordered = FER7.labels.to_vec();
        reordered.swap(0, 1);
        let e = exact
            .check_manifest(&manifest(Task::Fer, "fer7", &reordered), "m")
            .unwrap_err();
        assert!(matches!(e, RoleError::WrongLabels { .. }));
        assert!(
            e.to_string()
                .contains("the test model must give the fer7 labels in order")
        );
        assert_eq!(e.help().unwrap().to_string(), "fix the labels");

        let any = role(LabelRule::AnyOf(&SER8));
        let subset = [SER8.labels[3], SER8.labels[0]];
        assert!(
            any.check_manifest(&manifest(Task::Fer, "mine", &subset), "m")
                .is_ok()
        );
        for bad in [&["happy", "bored"][..], &[][..]] {
            let e = any.check_manifest(&manifest(Task::Fer, "mine", bad), "m");
            assert!(
                matches!(e, Err(RoleError::WrongLabels { .. })),
                "{bad:?}: {e:?}"
            );
        }
    }

    #[test]
    fn a_wrong_input_names_the_role_and_what_it_takes() {
        let e = role(LabelRule::Exactly(&FER7)).wrong_input("a.onnx", &[1, 3]);
        assert_eq!(
            e.to_string(),
            "a.onnx: the test model's input [1, 3] is not a picture"
        );
        assert_eq!(e.help().unwrap().to_string(), "give a picture");
    }
}
