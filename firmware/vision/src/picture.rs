//! A loaded model that scores a whole picture: the expression model (a face crop) and the ANP
//! tagger (the camera picture). The picture becomes the model's input through
//! [`crate::image_into`], the one function `sentio run --image`, `sentio eval` and the trainer
//! use, so a picture gives the same scores on the device and on the host.

use image::RgbImage;
use sentio_infer::{LoadOptions, Model, PlanChoice};
use sentio_models::Manifest;

use crate::ImagePrep;
use crate::role::{Role, RoleError};

/// A model for a [`Role`] that takes a picture, with its preprocessing.
#[derive(Debug)]
pub struct PictureModel {
    model: Model,
    /// `name@version` of the model.
    pub label: String,
    /// Where it came from (a path, `store:fer@1.0.0`).
    pub origin: String,
    /// Fraction of the face box added on each side before cropping (the manifest's
    /// `preprocessing.margin`; 0 when it has none).
    pub margin: f32,
    role: Role,
    shape: Vec<usize>,
    prep: ImagePrep,
    input: Vec<f32>,
}

impl PictureModel {
    /// Loads the ONNX bytes for `role` (a smoke run, one score per label). The caller has
    /// checked the manifest ([`Role::check_manifest`] and the input the role takes).
    pub(crate) fn load(
        role: &Role,
        manifest: &Manifest,
        onnx: &[u8],
        origin: &str,
        options: &LoadOptions,
    ) -> Result<Self, RoleError> {
        let model = role.load(manifest, onnx, origin, options)?;
        let shape = manifest.input.shape.clone();
        let preprocessing = &manifest.input.preprocessing;
        Ok(Self {
            model,
            label: format!("{}@{}", manifest.name, manifest.version),
            origin: origin.to_string(),
            margin: preprocessing.margin.unwrap_or(0.0),
            role: role.clone(),
            prep: ImagePrep::from_manifest(Some(preprocessing)),
            input: vec![0.0; shape.iter().product()],
            shape,
        })
    }

    /// Whose kernels run the model and why (measured at load).
    pub fn plan(&self) -> &PlanChoice {
        &self.model.lowering().plan
    }

    /// The model's scores (in its labels' order) for `picture`, resized to its input.
    pub fn scores(&mut self, picture: &RgbImage) -> Result<Vec<f32>, RoleError> {
        let image = image::DynamicImage::ImageRgb8(picture.clone());
        crate::image_into(&image, &self.shape, &self.prep, &mut self.input)
            .map_err(|_| self.role.wrong_input(&self.origin, &self.shape))?;
        self.model
            .run_first(&self.input)
            .map_err(|source| RoleError::infer(&self.origin, source))
    }
}
