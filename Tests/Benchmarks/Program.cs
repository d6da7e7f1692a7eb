using BenchmarkDotNet.Running;
using CaptionSidecar.Benchmarks;

// dotnet run -c Release --project Tests/Benchmarks -- --filter '*' --job short --inProcess
// (--inProcess skips building a separate benchmark project, which can take minutes on a busy 2-core machine.)
// dotnet run -c Release --project Tests/Benchmarks -- --cpu-time   (real-time factors in CPU time, for busy machines)
// dotnet run -c Release --project Tests/Benchmarks -- --audio-latency 3000   (capture-to-send latency on PulseAudio)
if (args.Length > 0 && args[0] == "--audio-latency" && OperatingSystem.IsLinux())
{
    await AudioLatencyReport.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3000);
    return;
}

if (args.Contains("--cpu-time"))
{
    CpuTimeReport.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(AudioBenchmarks).Assembly).Run(args);
