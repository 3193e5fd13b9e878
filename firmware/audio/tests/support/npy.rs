//! A minimal reader for the `.npy` fixtures: version 1/2/3 headers, little-endian float32
//! (`'<f4'`), C order, any shape. Enough for files written by `np.save` of a float32 array.

use std::path::Path;

pub struct Npy {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

pub fn read_npy(path: &Path) -> Result<Npy, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let fail = |what: &str| format!("{}: {what}", path.display());
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(fail("not an .npy file"));
    }
    let (header_len, header_start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(fail(&format!("unsupported .npy version {v}"))),
    };
    let header = std::str::from_utf8(
        bytes
            .get(header_start..header_start + header_len)
            .ok_or_else(|| fail("header cut short"))?,
    )
    .map_err(|_| fail("header is not text"))?;
    if !header.contains("'descr': '<f4'") {
        return Err(fail(&format!("not little-endian float32: {header}")));
    }
    if header.contains("'fortran_order': True") {
        return Err(fail("Fortran order is not supported"));
    }
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .ok_or_else(|| fail("no shape in header"))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| fail("bad shape")))
        .collect::<Result<Vec<_>, _>>()?;
    let payload = &bytes[header_start + header_len..];
    let count: usize = shape.iter().product();
    if payload.len() != count * 4 {
        return Err(fail(&format!(
            "payload has {} bytes, shape {shape:?} needs {}",
            payload.len(),
            count * 4
        )));
    }
    let data = payload
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(Npy { shape, data })
}
