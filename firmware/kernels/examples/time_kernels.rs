//! Times the flat convolution on the emoji CNN's layer shapes with every implementation this
//! CPU runs (median of 200 runs, 1 thread):
//! `cargo run --release -p sentio-kernels --example time_kernels`.

use std::time::Instant;

use sentio_kernels::Isa;
use sentio_kernels::flat_conv::FlatConvPlan;

fn main() {
    // (input [N, C_in, H, W], C_out, kernel, depthwise)
    let layers = [
        ([1, 1, 64, 64], 16, [2, 2], false),
        ([1, 16, 31, 31], 32, [2, 2], false),
        ([1, 32, 15, 15], 64, [2, 2], false),
        ([1, 64, 7, 7], 128, [2, 2], false),
        ([1, 32, 48, 48], 32, [3, 3], true),
        ([1, 128, 12, 12], 128, [1, 1], false),
    ];
    for (input, c_out, taps, depthwise) in layers {
        let [n, c_in, h, w] = input;
        let pad = if taps == [3, 3] { [1; 4] } else { [0; 4] };
        let output = [
            c_out,
            h + pad[0] + pad[2] + 1 - taps[0],
            w + pad[1] + pad[3] + 1 - taps[1],
        ];
        let per_output = if depthwise { 1 } else { c_in };
        let weights: Vec<f32> = (0..c_out * per_output * taps[0] * taps[1])
            .map(|i| (i % 7) as f32 * 0.1 - 0.3)
            .collect();
        let bias = vec![0.1f32; c_out];
        let x: Vec<f32> = (0..n * c_in * h * w)
            .map(|i| (i % 13) as f32 * 0.05)
            .collect();
        let macs = (n * output.iter().product::<usize>() * per_output * taps[0] * taps[1]) as f64;
        let mut line = format!(
            "{input:?} -> {c_out} {taps:?}{}:",
            if depthwise { " dw" } else { "" }
        );
        for isa in Isa::available() {
            let Ok(plan) =
                FlatConvPlan::new(input, output, taps, pad, &weights, &bias, depthwise, isa)
            else {
                continue;
            };
            let mut out = vec![0.0f32; plan.output_len()];
            let mut times = Vec::new();
            for round in 0..220 {
                let start = Instant::now();
                if plan.run(&x, &mut out).is_err() {
                    return;
                }
                if round >= 20 {
                    times.push(start.elapsed().as_secs_f64());
                }
            }
            times.sort_by(f64::total_cmp);
            let median = times[times.len() / 2];
            line += &format!(
                "  {isa} {:.3} ms ({:.1} GMAC/s)",
                median * 1e3,
                macs / median / 1e9
            );
        }
        println!("{line}");
    }
}
