using BenchmarkDotNet.Running;
using CaptionSidecar.Benchmarks;

// dotnet run -c Release --project Tests/Benchmarks -- --filter '*' --job short --inProcess
// (--inProcess skips building a separate benchmark project, which can take minutes on a busy 2-core machine.)
// dotnet run -c Release --project Tests/Benchmarks -- --cpu-time   (real-time factors in CPU time, for busy machines)
// dotnet run -c Release --project Tests/Benchmarks -- --audio-latency 3000   (capture-to-send latency on PulseAudio)
// dotnet run -c Release --project Tests/Benchmarks -- --cost-bench WORK SIDECAR_DLL   (scripts/cost-bench.sh: cost and latency, text vs audio translation)
if (args.Length > 0 && args[0] == "--audio-latency" && OperatingSystem.IsLinux())
{
    await AudioLatencyReport.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3000);
    return 0;
}

if (args.Length > 0 && args[0] == "--cost-bench")
{
    return await CaptionSidecar.Benchmarks.CostBench.CostBenchCommand.RunAsync(args);
}

if (args.Contains("--cpu-time"))
{
    CpuTimeReport.Run();
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(AudioBenchmarks).Assembly).Run(args);
return 0;
