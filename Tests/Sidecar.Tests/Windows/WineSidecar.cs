using CaptionSidecar.Tests.EndToEnd;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.Windows;

/// <summary>
/// The Windows release (<c>artifacts/release/win-x64/CaptionSidecar.exe</c>, from scripts/publish.sh) run under the
/// Wine of scripts/wine-headless.sh, as a Linux-side test starts it. Missing Wine skips locally and fails under CI.
/// The release is published once per test run when it is missing or older than the Sidecar build these tests use.
/// </summary>
internal static class WineSidecar
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static IReadOnlyDictionary<string, string>? s_environment;

    /// <summary>The published Windows executable.</summary>
    public static string ExePath => ReleaseBuild.ExePath("win-x64");

    /// <summary>
    /// Makes sure Wine answers and the release is current, and returns how to start it: skips (locally) or fails (CI)
    /// when Wine is missing or does not run.
    /// </summary>
    public static async Task<SidecarLauncher> RequireAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("The Windows build is tested under Wine on Linux.");
        }

        await Gate.WaitAsync(cancellationToken);
        try
        {
            s_environment ??= await WineEnvironmentAsync(cancellationToken);
            await ReleaseBuild.EnsureCurrentAsync("win-x64", cancellationToken);
        }
        finally
        {
            Gate.Release();
        }

        return new SidecarLauncher(Peers.FindExecutable("wine")!, [ExePath], s_environment);
    }

    /// <summary>
    /// A Linux path as the Windows build under Wine names it: Wine maps the Linux root to drive Z:, so
    /// <c>/tmp/x</c> is <c>Z:\tmp\x</c> (a bare <c>/tmp/x</c> would be taken relative to the current drive).
    /// </summary>
    public static string WindowsPath(string linuxPath) => "Z:" + Path.GetFullPath(linuxPath).Replace('/', '\\');

    /// <summary>Runs the release to completion under Wine (for commands such as --version and devices).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        IEnumerable<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var launcher = await RequireAsync(cancellationToken);
        await using var process = SidecarProcess.Start(args, launcher: launcher);
        var code = await process.WaitForExitAsync(timeout, cancellationToken);
        return (code, process.Stdout, process.Stderr);
    }

    private static async Task<IReadOnlyDictionary<string, string>> WineEnvironmentAsync(CancellationToken cancellationToken)
    {
        if (Peers.FindExecutable("wine") is null)
        {
            Peers.Missing("wine is not on PATH: run scripts/wine-headless.sh start");
        }

        var script = Path.Combine(SidecarProcess.RepoRoot, "scripts", "wine-headless.sh");
        var (status, _, _) = await Peers.RunAsync("bash", [script, "status"], TimeSpan.FromSeconds(20), cancellationToken);
        if (status != 0)
        {
            Peers.Missing("Wine's prefix, Xvfb or wineserver is not running: run scripts/wine-headless.sh start");
        }

        var (code, stdout, stderr) = await Peers.RunAsync("bash", [script, "env"], TimeSpan.FromSeconds(20), cancellationToken);
        Assert.True(code == 0, $"scripts/wine-headless.sh env failed: {stderr}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
    }
}
