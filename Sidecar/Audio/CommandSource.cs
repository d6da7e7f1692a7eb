using System.ComponentModel;
using System.Diagnostics;

namespace CaptionSidecar.Audio;

/// <summary>
/// A process whose standard output is raw s16le (<c>cmd:COMMAND</c>), started through <c>/bin/sh -c</c> on Unix and
/// <c>cmd.exe /c</c> on Windows: typically an ffmpeg capture. Live: it produces audio whether or not anyone reads.
/// Its stderr lines are logged at debug level; a non-zero exit is an <see cref="IOException"/> with the exit code and
/// its last stderr line. Disposing kills the process tree.
/// </summary>
internal sealed partial class CommandSource : IAudioSource
{
    private readonly Process _process;
    private readonly PcmStreamReader _reader;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private string? _lastErrorLine;
    private bool _exited;

    /// <summary>Starts <paramref name="command"/>.</summary>
    /// <exception cref="IOException">The shell cannot be started.</exception>
    public CommandSource(string command, AudioFormat format, ILogger<CommandSource> logger)
    {
        Command = command;
        Format = format;
        _logger = logger;
        var windows = OperatingSystem.IsWindows();
        var start = new ProcessStartInfo(windows ? "cmd.exe" : "/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // A closed stdin keeps tools like ffmpeg from reading the sidecar's terminal.
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        start.ArgumentList.Add(windows ? "/c" : "-c");
        start.ArgumentList.Add(command);
        _process = new Process { StartInfo = start };
        _process.ErrorDataReceived += OnErrorLine;
        try
        {
            _process.Start();
        }
        catch (Win32Exception ex)
        {
            _process.Dispose();
            throw new IOException($"The input command could not be started ({start.FileName}: {ex.Message}).", ex);
        }

        _process.StandardInput.Close();
        _process.BeginErrorReadLine();
        _reader = new PcmStreamReader(_process.StandardOutput.BaseStream, PcmEncoding.Int16, format.Channels);
    }

    /// <summary>The command line as given.</summary>
    public string Command { get; }

    /// <inheritdoc/>
    public string Description => $"command '{Command}' (raw s16le, {Format})";

    /// <inheritdoc/>
    public AudioFormat Format { get; }

    /// <inheritdoc/>
    public bool IsLive => true;

    /// <inheritdoc/>
    public bool CanOutrunRealTime => false;

    /// <inheritdoc/>
    public async ValueTask<int> ReadAsync(Memory<float> buffer, CancellationToken cancellationToken)
    {
        var read = await _reader.ReadAsync(buffer, cancellationToken);
        if (read > 0)
        {
            return read;
        }

        // Its stdout closed: the command is ending. How it ended says whether that was the end of the input or a failure.
        await _process.WaitForExitAsync(cancellationToken);
        _exited = true;
        var code = _process.ExitCode;
        if (code != 0)
        {
            string? last;
            lock (_gate)
            {
                last = _lastErrorLine;
            }

            throw new IOException(last is null
                ? $"The input command exited with code {code}{ExitMeaning(code)} and wrote nothing to stderr: {Command}"
                : $"The input command exited with code {code}{ExitMeaning(code)}: {last}");
        }

        LogEnded(Command);
        return 0;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (!_exited)
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync(CancellationToken.None);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
            {
                LogKillFailed(ex, Command);
            }
        }

        _process.Dispose();
    }

    /// <summary>What the shell's own exit codes mean, in words (empty for the command's own codes).</summary>
    internal static string ExitMeaning(int code) => OperatingSystem.IsWindows()
        ? code == 9009 ? " (the command was not found)" : string.Empty
        : code switch
        {
            126 => " (the command is not executable)",
            127 => " (the command was not found)",
            > 128 and < 160 => $" (killed by signal {code - 128}{SignalName(code - 128)})",
            _ => string.Empty,
        };

    private static string SignalName(int signal) => signal switch
    {
        2 => ", SIGINT",
        6 => ", SIGABRT",
        9 => ", SIGKILL",
        11 => ", SIGSEGV",
        15 => ", SIGTERM",
        _ => string.Empty,
    };

    private void OnErrorLine(object sender, DataReceivedEventArgs e)
    {
        if (string.IsNullOrWhiteSpace(e.Data))
        {
            return;
        }

        lock (_gate)
        {
            _lastErrorLine = e.Data.Trim();
        }

        LogErrorLine(e.Data);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "input command: {Line}")]
    private partial void LogErrorLine(string line);

    [LoggerMessage(Level = LogLevel.Information, Message = "The input command finished: {Command}")]
    private partial void LogEnded(string command);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping the input command failed: {Command}")]
    private partial void LogKillFailed(Exception ex, string command);
}
