using CaptionSidecar.Tests.Support;
using CaptionSidecar.Audio;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Tests.Audio;

public sealed class AudioSourceFactoryTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("factory-tests-").FullName;
    private readonly ListLoggerFactory _loggers = new();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact(Timeout = 30000)]
    public async Task OpenAsync_FileInput_OpensWavAndLogsItsFormat()
    {
        var path = Path.Combine(_folder, "talk.wav");
        await File.WriteAllBytesAsync(
            path,
            new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 2, 44_100, 24)).Chunk("data", new byte[12]).Build(),
            TestContext.Current.CancellationToken);

        await using var source = await new AudioSourceFactory(_loggers).OpenAsync(new AudioOptions { Input = $"file:{path}" }, TestContext.Current.CancellationToken);

        Assert.IsType<WavFileSource>(source);
        Assert.Equal(new AudioFormat(44_100, 2), source.Format);
        var opened = Assert.Single(_loggers.Entries, e => e.Level == LogLevel.Information);
        Assert.Contains("24-bit PCM, 44100 Hz, 2 channels", opened.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task OpenAsync_CommandInput_UsesRawRateAndChannels()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("The command is written for /bin/sh.");
        }

        await using var source = await new AudioSourceFactory(_loggers).OpenAsync(
            new AudioOptions { Input = "cmd:\"head -c 8 /dev/zero\"", InputRate = 16_000, InputChannels = 2 }, TestContext.Current.CancellationToken);

        var command = Assert.IsType<CommandSource>(source);
        Assert.Equal("head -c 8 /dev/zero", command.Command);
        Assert.Equal(new AudioFormat(16_000, 2), source.Format);
        Assert.Equal(4, await source.ReadAsync(new float[16], TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = 30000)]
    public async Task OpenAsync_MissingFile_ThrowsIOExceptionNamingIt()
    {
        var path = Path.Combine(_folder, "nowhere.wav");

        var ex = await Assert.ThrowsAsync<IOException>(() => new AudioSourceFactory(_loggers).OpenAsync(new AudioOptions { Input = $"file:{path}" }, TestContext.Current.CancellationToken));

        Assert.Contains("nowhere.wav", ex.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task OpenAsync_Folder_SaysItIsAFolderNotThatItIsMissing()
    {
        var ex = await Assert.ThrowsAsync<IOException>(() => new AudioSourceFactory(_loggers).OpenAsync(new AudioOptions { Input = $"file:{_folder}" }, TestContext.Current.CancellationToken));

        Assert.Contains("is a folder, not a WAV file", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task OpenAsync_FifoWithoutWriter_WaitsAndEndsAtOnceWhenCancelled()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("FIFOs are a Unix feature.");
        }

        var fifo = Path.Combine(_folder, "audio.fifo");
        var (code, _, stderr) = await Peers.RunAsync("mkfifo", [fifo], TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.True(code == 0, stderr);
        using var stop = new CancellationTokenSource();

        var opening = new AudioSourceFactory(_loggers).OpenAsync(new AudioOptions { Input = $"file:{fifo}" }, stop.Token);
        Assert.False(opening.IsCompleted); // open(2) waits for a writer, on its own thread
        await stop.CancelAsync();

        // The caller is released although open(2) still blocks: no writer ever came.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => opening);

        // Let the parked thread go (a writer that closes at once: the header read ends, the abandoned open is dropped).
        await using (new FileStream(fifo, FileMode.Open, FileAccess.Write))
        {
        }
    }

    [Fact(Timeout = 30000)]
    public async Task OpenAsync_FifoWhoseWriterStalls_ReadEndsAtOnceWhenCancelled()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("FIFOs are a Unix feature.");
        }

        var ct = TestContext.Current.CancellationToken;
        var fifo = Path.Combine(_folder, "audio.fifo");
        var (code, _, stderr) = await Peers.RunAsync("mkfifo", [fifo], TimeSpan.FromSeconds(10), ct);
        Assert.True(code == 0, stderr);
        var opening = new AudioSourceFactory(_loggers).OpenAsync(new AudioOptions { Input = $"file:{fifo}" }, ct);
        // A writer that sends the header and one frame, then stalls with the FIFO open.
        await using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.Read, 1, useAsync: false);
        var wav = new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 1, 16_000, 16)).Chunk("data", new byte[2]).Build();
        wav.AsSpan(wav.Length - 6, 4).Fill(0xFF); // a data chunk left open, as a live writer leaves it
        await writer.WriteAsync(wav, ct);
        await writer.FlushAsync(ct);
        await using var source = await opening;
        Assert.Equal(1, await source.ReadAsync(new float[16], ct));
        using var stop = new CancellationTokenSource();

        var reading = source.ReadAsync(new float[16], stop.Token).AsTask();
        Assert.False(reading.IsCompleted);
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);

        // The writer goes first: the abandoned read(2) ends only when the FIFO's writer closes, and disposing the
        // source's buffered stream waits for that read (the `await using`s would otherwise dispose the source first).
        await writer.DisposeAsync();
    }

    [Fact(Timeout = 30000)]
    public async Task OpenAsync_UnknownInput_ThrowsFormatExceptionListingWhatWorks()
    {
        var ex = await Assert.ThrowsAsync<FormatException>(() => new AudioSourceFactory(_loggers).OpenAsync(new AudioOptions { Input = "microphone" }, TestContext.Current.CancellationToken));

        Assert.Contains("cmd:", ex.Message, StringComparison.Ordinal);
    }

    private sealed class ListLoggerFactory : ILoggerFactory
    {
        private readonly ListLogger<object> _logger = new();

        public IReadOnlyList<(LogLevel Level, Exception? Exception, string Message)> Entries => _logger.Entries;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => _logger;

        public void Dispose()
        {
        }
    }
}
