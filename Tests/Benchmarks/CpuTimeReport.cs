using System.Diagnostics;

namespace CaptionSidecar.Benchmarks;

/// <summary>
/// Real-time factors measured in CPU time rather than wall time (<c>--cpu-time</c>): on a shared machine a busy
/// neighbour stretches wall time, while the CPU time this process spends is what one core needs for the work.
/// </summary>
internal static class CpuTimeReport
{
    public static void Run()
    {
        var benchmarks = new AudioBenchmarks();
        benchmarks.Setup();
        Report("48 kHz -> 24 kHz", 10, () => benchmarks.Resample48kTo24k_10s(), repeat: 20);
        Report("44.1 kHz -> 24 kHz", 10, () => benchmarks.Resample44k1To24k_10s(), repeat: 20);
        Report("chunk + base64 (20 ms)", 0.02, () => benchmarks.ChunkAndBase64_20ms(), repeat: 50_000);
    }

    private static void Report(string name, double audioSeconds, Action run, int repeat = 1)
    {
        for (var i = 0; i < 5 * repeat; i++)
        {
            run(); // warm up: tiered JIT reaches its optimized code
        }

        var process = Process.GetCurrentProcess();
        var best = double.MaxValue;
        for (var round = 0; round < 7; round++)
        {
            process.Refresh();
            var before = process.TotalProcessorTime;
            for (var i = 0; i < 3 * repeat; i++)
            {
                run();
            }

            process.Refresh();
            // Rounds of ~0.2 s: the process CPU clock ticks in 10 ms steps.
            best = Math.Min(best, (process.TotalProcessorTime - before).TotalSeconds / (3 * repeat));
        }

        Console.WriteLine($"{name}: {best * 1e6:F1} us CPU per {audioSeconds} s of audio = {audioSeconds / best:F0}x real time on one core");
    }
}
