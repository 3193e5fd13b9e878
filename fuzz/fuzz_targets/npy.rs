//! Any bytes as a NumPy `.npy` file (`sentio run --input`, `sentio quantize --calib`): the
//! reader must not panic, an array it accepts holds as many values as its shape says, and
//! writing it back and reading it again gives the same array (bit for bit).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sentio_infer::npy;

fuzz_target!(|data: &[u8]| {
    match npy::parse(data, Path::new("fuzz.npy")) {
        Ok(array) => {
            let count: usize = array.shape.iter().product();
            assert_eq!(count, array.data.len(), "shape {:?}", array.shape);
            let _ = array.rows().count();
            let bytes = npy::to_bytes(&array.shape, &array.data);
            let again = npy::parse(&bytes, Path::new("again.npy")).expect("what we write reads back");
            assert_eq!(again.shape, array.shape);
            let bits = |a: &npy::Array| a.data.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&again), bits(&array));
        }
        Err(e) => {
            let _ = (e.to_string(), e.help());
        }
    }
});
