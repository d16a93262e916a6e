//! `cinder-example`: the example app, embedded on http://127.0.0.1:4000 by default, or a
//! view-node of a cluster with `cinder-example view-node` (see `--help`).

fn main() -> std::process::ExitCode {
    cinder_runtime::App::new("cinder-example", cinder_example::routes).main()
}
