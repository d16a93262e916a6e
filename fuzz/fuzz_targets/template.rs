//! The template parser (`cinder-template`), which `html!` and `html_file!` run at build
//! time over the app's templates.
//!
//! Holds: no input panics or overflows the stack; an error points inside the input,
//! with a line and a column that agree with its byte offset.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = cinder_template::parse(source) {
        let pos = error.pos;
        assert!(pos.offset <= source.len(), "{error}");
        let before = source
            .get(..pos.offset)
            .expect("an error points at a char boundary");
        assert_eq!(pos.line, before.matches('\n').count() + 1, "{error}");
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        assert_eq!(
            pos.column,
            before[line_start..].chars().count() + 1,
            "{error}"
        );
    }
});
