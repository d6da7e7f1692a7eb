using BenchmarkDotNet.Running;
using CaptionSidecar.Benchmarks;

// dotnet run -c Release --project Tests/Benchmarks -- --filter '*' --job short --inProcess
// (--inProcess skips building a separate benchmark project, which can take minutes on a busy 2-core machine.)
// dotnet run -c Release --project Tests/Benchmarks -- --cpu-time   (real-time factors in CPU time, for busy machines)
if (args.Contains("--cpu-time"))
{
    CpuTimeReport.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(AudioBenchmarks).Assembly).Run(args);
