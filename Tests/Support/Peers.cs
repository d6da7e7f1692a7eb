using System.Diagnostics;

namespace CaptionSidecar.Tests.Support;

/// <summary>
/// Real peers (espeak-ng, sox, OBS, PulseAudio, Chromium) that integration tests need. A missing peer skips the test
/// on a developer's machine, and fails it under CI (<c>CI=true</c>), where scripts/test.sh must have installed it.
/// </summary>
public static class Peers
{
    /// <summary>True when running under CI (environment variable <c>CI</c> is <c>true</c> or <c>1</c>).</summary>
    public static bool IsCi => Environment.GetEnvironmentVariable("CI") is { } ci
        && (ci.Equals("true", StringComparison.OrdinalIgnoreCase) || ci == "1");

    /// <summary>Skips (locally) or fails (CI) the current test with <paramref name="reason"/>.</summary>
    public static void Missing(string reason)
    {
        if (IsCi)
        {
            Assert.Fail($"Required test peer missing under CI: {reason}");
        }

        Assert.Skip($"Test peer missing: {reason} (install it with scripts/test.sh)");
    }

    /// <summary>Returns the full path of an executable on PATH, or skips/fails the test when there is none.</summary>
    public static string RequireExecutable(string name)
    {
        var found = FindExecutable(name);
        if (found is null)
        {
            Missing($"'{name}' is not on PATH");
        }

        return found!;
    }

    /// <summary>
    /// The headless PulseAudio daemon of scripts/pulse-headless.sh with its <paramref name="sink"/> null sink: skips
    /// on other OSes, skips (locally) or fails (CI) when it does not answer. Returns the path of pactl.
    /// </summary>
    public static async Task<string> RequirePulseDaemonAsync(string sink, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("PulseAudio capture is built for Linux only.");
        }

        var pactl = FindExecutable("pactl");
        if (pactl is null)
        {
            Missing("pactl is not on PATH (PulseAudio): run scripts/pulse-headless.sh start");
        }

        var (code, stdout, _) = await RunAsync(pactl!, ["list", "short", "sinks"], TimeSpan.FromSeconds(10), cancellationToken);
        if (code != 0 || !stdout.Contains(sink, StringComparison.Ordinal))
        {
            Missing($"no PulseAudio daemon with a '{sink}' null sink answers: run scripts/pulse-headless.sh start");
        }

        return pactl!;
    }

    /// <summary>Finds an executable on PATH, or null.</summary>
    public static string? FindExecutable(string name)
    {
        if (Path.IsPathRooted(name))
        {
            return File.Exists(name) ? name : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Runs a program to completion and returns its exit code, stdout and stderr. Fails the test on timeout.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} did not finish within {timeout}.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
