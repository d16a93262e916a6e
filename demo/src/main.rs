//! `cinder-demo`: the demo app on the Cinder runtime. `cinder-demo` serves it embedded on
//! http://127.0.0.1:4000; `cinder-demo view-node` runs a view-node of a cluster. See
//! `cinder-demo --help` and `cinder-demo view-node --help`.

fn main() -> std::process::ExitCode {
    cinder_runtime::App::new("cinder-demo", cinder_demo::routes)
        .assets(cinder_demo::assets_dir())
        .main()
}
