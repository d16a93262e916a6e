use cinder::{Rendered, html_file};

fn view() -> Rendered<'static> {
    html_file!("tests/ui/templates/does_not_exist.html")
}

fn main() {
    let _ = view();
}
