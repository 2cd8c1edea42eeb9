//! A JavaScript worker for the tests (`warden::serve_js_worker`), so that tests of this
//! package can run JavaScript in worker processes as `warden serve` does.

fn main() {
    std::process::exit(warden::serve_js_worker());
}
