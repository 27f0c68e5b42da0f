//! Release binary and zip sizes per function (the zip is what Lambda receives).

use std::path::Path;
use std::process::Command;

#[derive(Clone)]
pub struct Size {
    pub function: String,
    pub binary_bytes: u64,
    pub zip_bytes: Option<u64>,
}

/// Zips `bootstrap` (deflate, level 9) with Python's zipfile, which every machine
/// running the local stack has; returns the zip's size.
fn zip_size(binary: &Path, scratch: &Path) -> Option<u64> {
    std::fs::create_dir_all(scratch).ok()?;
    let zip = scratch.join("bootstrap.zip");
    let script = "import sys, zipfile\n\
                  with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:\n\
                  \x20   z.write(sys.argv[1], 'bootstrap')\n";
    let ok = Command::new("python3").arg("-c").arg(script).arg(binary).arg(&zip).status().ok()?.success();
    if !ok {
        return None;
    }
    std::fs::metadata(&zip).ok().map(|m| m.len())
}

pub fn measure(release_dir: &Path, functions: &[&str]) -> Vec<Size> {
    functions
        .iter()
        .filter_map(|f| {
            let binary = release_dir.join(f);
            let binary_bytes = std::fs::metadata(&binary).ok()?.len();
            let zip_bytes = zip_size(&binary, &release_dir.join("bench-zips").join(f));
            Some(Size { function: (*f).to_owned(), binary_bytes, zip_bytes })
        })
        .collect()
}
