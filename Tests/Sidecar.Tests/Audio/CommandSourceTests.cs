using CaptionSidecar.Tests.Support;
using CaptionSidecar.Audio;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Audio;

public sealed class CommandSourceTests
{
    private static async Task<List<float>> ReadAllAsync(IAudioSource source, CancellationToken cancellationToken)
    {
        var all = new List<float>();
        var buffer = new float[333];
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            all.AddRange(buffer.AsSpan(0, read));
        }

        return all;
    }

    private static void RequireShell()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("These commands are written for /bin/sh.");
        }
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_CommandPrintsZeros_YieldsThoseSamples()
    {
        RequireShell();
        await using var source = new CommandSource("head -c 9600 /dev/zero", new AudioFormat(48_000, 1), NullLogger<CommandSource>.Instance);

        Assert.True(source.IsLive);
        var samples = await ReadAllAsync(source, TestContext.Current.CancellationToken);

        Assert.Equal(4_800, samples.Count);
        Assert.All(samples, s => Assert.Equal(0f, s));
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_CommandPrintsKnownSamples_YieldsThemInOrder()
    {
        RequireShell();
        // s16le 1, 256, -1 (0xFFFF), 32767 (0x7FFF), -32768 (0x8000), as octal escapes portable across printf versions.
        await using var source = new CommandSource(
            @"printf '\001\000\000\001\377\377\377\177\000\200'", new AudioFormat(8_000, 1), NullLogger<CommandSource>.Instance);

        Assert.Equal(new float[] { 1, 256, -1, 32_767, -32_768 }.Select(s => s / 32_768f), await ReadAllAsync(source, TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_CommandExitsWithCode3_ThrowsIOExceptionNamingCodeAndLastStderrLine()
    {
        RequireShell();
        var logger = new ListLogger<CommandSource>();
        await using var source = new CommandSource(
            "echo starting >&2; echo 'device busy: hw:1' >&2; exit 3", new AudioFormat(48_000, 1), logger);

        var ex = await Assert.ThrowsAsync<IOException>(() => ReadAllAsync(source, TestContext.Current.CancellationToken));

        Assert.Contains("exited with code 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("device busy: hw:1", ex.Message, StringComparison.Ordinal);
        Assert.Contains(logger.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Debug && e.Message.Contains("starting", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_CommandNotFound_ThrowsIOExceptionWithShellsMessage()
    {
        RequireShell();
        await using var source = new CommandSource("no-such-capture-tool-xyz --record", new AudioFormat(48_000, 1), NullLogger<CommandSource>.Instance);

        var ex = await Assert.ThrowsAsync<IOException>(() => ReadAllAsync(source, TestContext.Current.CancellationToken));

        Assert.Contains("exited with code 127 (the command was not found)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no-such-capture-tool-xyz", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(126, " (the command is not executable)", "")]
    [InlineData(137, " (killed by signal 9, SIGKILL)", "")]
    [InlineData(3, "", "")]
    [InlineData(9009, "", " (the command was not found)")]
    public void ExitMeaning_ShellCodes_NamedInWords(int code, string unix, string windows)
    {
        // /bin/sh's codes on Unix, cmd.exe's on Windows (no skip: under Wine a skipped synchronous theory row ended
        // the xunit runner).
        Assert.Equal(OperatingSystem.IsWindows() ? windows : unix, CommandSource.ExitMeaning(code));
    }

    [Fact(Timeout = 30000)]
    public async Task DisposeAsync_RunningCommand_KillsIt()
    {
        RequireShell();
        var pidFile = Path.Combine(Path.GetTempPath(), $"cmd-source-{Guid.NewGuid():N}.pid");
        var source = new CommandSource($"echo $$ > {pidFile}; exec cat /dev/zero", new AudioFormat(48_000, 1), NullLogger<CommandSource>.Instance);
        var buffer = new float[480];
        Assert.True(await source.ReadAsync(buffer, TestContext.Current.CancellationToken) > 0);
        var pid = int.Parse((await File.ReadAllTextAsync(pidFile, TestContext.Current.CancellationToken)).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        await source.DisposeAsync();

        Assert.False(Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal));
        File.Delete(pidFile);
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_SilentCommandCancelled_StopsWaiting()
    {
        RequireShell();
        await using var source = new CommandSource("sleep 60", new AudioFormat(48_000, 1), NullLogger<CommandSource>.Instance);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var read = source.ReadAsync(new float[480], cts.Token).AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }
}
