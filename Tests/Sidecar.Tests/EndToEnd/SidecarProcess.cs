using System.Collections.Concurrent;
using System.Diagnostics;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// The built sidecar executable run as a child process, as a streamer or a script would run it: its stdout
/// (captions) and stderr (logs) are collected line by line.
/// </summary>
internal sealed class SidecarProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SidecarProcess(Process process)
    {
        _process = process;
    }

    public string Stdout => string.Join('\n', _stdout);

    public string Stderr => string.Join('\n', _stderr);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The process id (to read its memory from /proc).</summary>
    public int ProcessId => _process.Id;

    /// <summary>Path of the sidecar's main assembly built alongside these tests (same configuration).</summary>
    public static string SidecarAssembly
    {
        get
        {
            var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = testBin.Parent!.Name; // bin/<Configuration>/net10.0
            var path = Path.Combine(RepoRoot, "Sidecar", "bin", configuration, testBin.Name, "CaptionSidecar.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build the Sidecar project first.", path);
        }
    }

    /// <summary>The repository root (the folder holding CaptionSidecar.sln).</summary>
    public static string RepoRoot => TestHost.RepoRoot;

    /// <summary>
    /// Starts the sidecar with <paramref name="args"/>; the inherited OPENAI_API_KEY is removed. With
    /// <paramref name="workingDirectory"/> it runs there; with <paramref name="dotnetRun"/> it is started as the
    /// README says, <c>dotnet run --project Sidecar</c> (without building: the tests built it). With
    /// <paramref name="launcher"/> another program starts it (the Windows release under Wine: <see cref="Windows.WineSidecar"/>).
    /// </summary>
    public static SidecarProcess Start(
        IEnumerable<string> args,
        bool redirectStdin = false,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null,
        bool dotnetRun = false,
        SidecarLauncher? launcher = null)
    {
        var psi = new ProcessStartInfo(launcher?.FileName ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        if (launcher is not null)
        {
            foreach (var a in launcher.Arguments)
            {
                psi.ArgumentList.Add(a);
            }
        }
        else if (dotnetRun)
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            foreach (var a in new[] { "run", "--project", Path.Combine(RepoRoot, "Sidecar"), "-c", configuration, "--no-build", "--" })
            {
                psi.ArgumentList.Add(a);
            }
        }
        else
        {
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(SidecarAssembly);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("OPENAI_API_KEY");
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("CAPTIONSIDECAR_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        foreach (var (k, v) in (launcher?.Environment ?? new Dictionary<string, string>()).Concat(environment ?? new Dictionary<string, string>()))
        {
            psi.Environment[k] = v;
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var sidecar = new SidecarProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                sidecar._stdout.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                sidecar._stderr.Enqueue(e.Data);
            }
        };
        process.Exited += (_, _) => sidecar._exited.TrySetResult();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return sidecar;
    }

    /// <summary>Writes <paramref name="data"/> to the sidecar's stdin and flushes it, leaving stdin open.</summary>
    public async Task WriteStdinAsync(byte[] data, CancellationToken cancellationToken)
    {
        var stdin = _process.StandardInput.BaseStream;
        await stdin.WriteAsync(data, cancellationToken);
        await stdin.FlushAsync(cancellationToken);
    }

    /// <summary>Writes <paramref name="data"/> to the sidecar's stdin and closes it.</summary>
    public async Task WriteStdinAndCloseAsync(byte[] data, CancellationToken cancellationToken)
    {
        var stdin = _process.StandardInput.BaseStream;
        await stdin.WriteAsync(data, cancellationToken);
        await stdin.FlushAsync(cancellationToken);
        _process.StandardInput.Close();
    }

    /// <summary>Waits for the process to exit and returns its exit code; kills it and fails on timeout.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _exited.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            Kill();
            Assert.Fail($"The sidecar did not exit within {timeout}.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        // Drains the redirected streams, within a bound: under Wine a service the program started (wineserver's
        // helpers, the desktop process) can inherit its stdout and keep the pipe open after it exits, and an
        // unbounded drain would then wait forever. The lines read so far are kept either way.
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            Assert.Fail($"The sidecar exited but did not report it within 10 s.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return _process.ExitCode;
    }

    /// <summary>
    /// For <see cref="Poll"/>'s <c>failIf</c>: null while the sidecar runs, else a message with its exit code and
    /// logs, so a wait on a dead sidecar fails at once.
    /// </summary>
    public string? ExitedWith() =>
        _process.HasExited ? $"the sidecar exited with code {_process.ExitCode}.\nstdout:\n{Stdout}\nstderr:\n{Stderr}" : null;

    /// <summary>For <see cref="Poll"/>'s <c>details</c>: the sidecar's logs so far.</summary>
    public string StderrDetails() => $"stderr:\n{Stderr}";

    /// <summary>Waits until stderr (logs) has a line containing <paramref name="text"/> <paramref name="count"/> times.</summary>
    public async Task WaitForStderrAsync(string text, int count, TimeSpan timeout)
    {
        await Poll.ForAsync<int?>(
            _ => Task.FromResult<int?>(_stderr.Count(l => l.Contains(text, StringComparison.Ordinal))),
            seen => seen >= count,
            $"{count} log lines containing '{text}'",
            TestContext.Current.CancellationToken,
            (int)timeout.TotalMilliseconds,
            intervalMs: 50,
            failIf: ExitedWith,
            details: StderrDetails);
    }

    /// <summary>Waits until stdout has a line containing <paramref name="text"/>.</summary>
    public async Task WaitForStdoutAsync(string text, TimeSpan timeout)
    {
        await Poll.UntilAsync(
            () => _stdout.Any(l => l.Contains(text, StringComparison.Ordinal)),
            $"stdout contains '{text}'",
            TestContext.Current.CancellationToken,
            (int)timeout.TotalMilliseconds,
            intervalMs: 50,
            failIf: ExitedWith,
            details: () => $"stdout:\n{Stdout}\nstderr:\n{Stderr}");
    }

    /// <summary>Asks the sidecar to stop as Ctrl+C would (SIGINT).</summary>
    public void Interrupt()
    {
        if (!_process.HasExited && !OperatingSystem.IsWindows())
        {
            using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }

        _process.Dispose();
    }
}

/// <summary>How to start a sidecar other than with <c>dotnet exec</c>: the program, its leading arguments, its environment.</summary>
internal sealed record SidecarLauncher(string FileName, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment);
