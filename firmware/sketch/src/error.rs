/// What can go wrong with a sketch's input (results such as "no card" are not errors).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SketchError {
    #[error("{what} is {width}x{height}, smaller than the {min}x{min} a sketch needs")]
    #[diagnostic(code(data::sketch::too_small), help("{help}"))]
    TooSmall {
        what: &'static str,
        width: u32,
        height: u32,
        min: u32,
        help: &'static str,
    },
    #[error("the drawing has a point at ({x}, {y}) that is not a finite number")]
    #[diagnostic(
        code(data::sketch::non_finite_point),
        help("check the pointer driver or the stroke file; every coordinate must be a number")
    )]
    NonFinitePoint { x: f32, y: f32 },
}
