//! V4lCamera without a camera: the errors a user meets first must say what to do. (Streaming
//! itself needs a real /dev/video*: a webcam, or the `vivid` test driver in a VM.)
#![cfg(feature = "v4l")]

mod common;
use common::shown;

use sentio_hal::ErrorKind;
use sentio_linux::{SizePolicy, SourceFormat, V4lCamera};

fn open_err(path: &str, w: u32, h: u32, fps: u32) -> sentio_hal::HalError {
    match V4lCamera::open(path, w, h, fps, SourceFormat::Yuyv) {
        Ok(_) => panic!("{path} opened as a camera"),
        Err(e) => e,
    }
}

#[test]
fn missing_camera_names_the_device_and_the_fix() {
    let err = open_err("/dev/video-sentio-missing", 640, 480, 30);
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let text = shown(&err);
    assert!(text.contains("camera /dev/video-sentio-missing"), "{text}");
    assert!(text.contains("v4l2-ctl --list-devices"), "{text}");
    assert!(text.contains("camera.device"), "{text}");
}

#[test]
fn a_node_that_is_not_a_capture_device_is_refused() {
    let err = open_err("/dev/null", 640, 480, 30);
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(shown(&err).contains("no video capture format"), "{err}");
    assert!(err.help_text().is_some());
}

#[test]
fn nonsense_sizes_are_refused_before_opening() {
    let err = open_err("/dev/video-sentio-missing", 0, 480, 30);
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let err = match V4lCamera::open_with(
        "/dev/video-sentio-missing",
        640,
        480,
        0,
        SourceFormat::Mjpeg,
        SizePolicy::AcceptDriver,
    ) {
        Ok(_) => panic!("0 fps accepted"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[test]
fn format_names_from_board_profiles() {
    assert_eq!(SourceFormat::from_name("YUYV"), Some(SourceFormat::Yuyv));
    assert_eq!(SourceFormat::from_name("mjpeg"), Some(SourceFormat::Mjpeg));
    assert_eq!(SourceFormat::from_name("MJPG"), Some(SourceFormat::Mjpeg));
    assert_eq!(SourceFormat::from_name("h264"), None);
}
