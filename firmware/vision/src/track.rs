//! Follow the largest face between detections.
