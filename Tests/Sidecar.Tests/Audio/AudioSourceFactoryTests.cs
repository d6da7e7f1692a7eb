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
    public async Task Create_FileInput_OpensWavAndLogsItsFormat()
    {
        var path = Path.Combine(_folder, "talk.wav");
        await File.WriteAllBytesAsync(
            path,
            new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 2, 44_100, 24)).Chunk("data", new byte[12]).Build(),
            TestContext.Current.CancellationToken);

        await using var source = new AudioSourceFactory(_loggers).Create(new AudioOptions { Input = $"file:{path}" });

        Assert.IsType<WavFileSource>(source);
        Assert.Equal(new AudioFormat(44_100, 2), source.Format);
        var opened = Assert.Single(_loggers.Entries, e => e.Level == LogLevel.Information);
        Assert.Contains("24-bit PCM, 44100 Hz, 2 channels", opened.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Create_CommandInput_UsesRawRateAndChannels()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("The command is written for /bin/sh.");
        }

        await using var source = new AudioSourceFactory(_loggers).Create(
            new AudioOptions { Input = "cmd:\"head -c 8 /dev/zero\"", InputRate = 16_000, InputChannels = 2 });

        var command = Assert.IsType<CommandSource>(source);
        Assert.Equal("head -c 8 /dev/zero", command.Command);
        Assert.Equal(new AudioFormat(16_000, 2), source.Format);
        Assert.Equal(4, await source.ReadAsync(new float[16], TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Create_MissingFile_ThrowsIOExceptionNamingIt()
    {
        var path = Path.Combine(_folder, "nowhere.wav");

        var ex = Assert.Throws<IOException>(() => new AudioSourceFactory(_loggers).Create(new AudioOptions { Input = $"file:{path}" }));

        Assert.Contains("nowhere.wav", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_UnknownInput_ThrowsFormatExceptionListingWhatWorks()
    {
        var ex = Assert.Throws<FormatException>(() => new AudioSourceFactory(_loggers).Create(new AudioOptions { Input = "microphone" }));

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
