//! Embeds the shipped letter templates (`templates/letters/<name>/<lang>.hbs` at the top of the
//! repository) so letters can be drafted from any folder, as the mailer does for email.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("../../templates/letters");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    if let Ok(names) = std::fs::read_dir(&root) {
        for name in names.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
            println!("cargo:rerun-if-changed={}", name.display());
            if let Ok(langs) = std::fs::read_dir(&name) {
                for file in langs.flatten().map(|e| e.path()) {
                    if file.extension().is_some_and(|e| e == "hbs") {
                        files.push(file);
                    }
                }
            }
        }
    }
    files.sort();
    let mut out = String::from("&[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let lang = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    ({name:?}, {lang:?}, include_str!({:?})),",
            file.display().to_string()
        );
    }
    out.push(']');
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("letters.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}
