using CaptionSidecar.Tests.Support;
using CaptionSidecar.Audio;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Audio;

public sealed class WavFileSourceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("wav-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static async Task<float[]> ReadAllAsync(IAudioSource source, CancellationToken cancellationToken, int bufferSamples = 64)
    {
        var all = new List<float>();
        var buffer = new float[bufferSamples];
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            Assert.Equal(0, read % source.Format.Channels);
            all.AddRange(buffer.AsSpan(0, read));
        }

        return [.. all];
    }

    private static AudioFormatException Rejects(string path) =>
        Assert.Throws<AudioFormatException>(() => new WavFileSource(path, NullLogger<WavFileSource>.Instance));

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_Pcm16Mono22050_ReadsSamplesAndFormat()
    {
        var path = Write("mono16.wav", new WavBuilder()
            .Chunk("fmt ", WavBuilder.Fmt(1, 1, 22_050, 16))
            .Chunk("data", WavBuilder.Pcm16(0, 16_384, -32_768, 32_767, -1))
            .Build());
        await using var source = new WavFileSource(path, NullLogger<WavFileSource>.Instance);

        Assert.Equal(new AudioFormat(22_050, 1), source.Format);
        Assert.False(source.IsLive);
        Assert.True(source.CanOutrunRealTime);
        var samples = await ReadAllAsync(source, TestContext.Current.CancellationToken);
        Assert.Equal([0f, 0.5f, -1f, 32_767 / 32_768f, -1 / 32_768f], samples);
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_Pcm24Stereo48k_ReadsInterleavedFramesAcrossSmallReads()
    {
        var path = Write("stereo24.wav", new WavBuilder()
            .Chunk("fmt ", WavBuilder.Fmt(1, 2, 48_000, 24))
            .Chunk("data", WavBuilder.Pcm24(4_194_304, -4_194_304, 8_388_607, -8_388_608, 1, -1))
            .Build());
        await using var source = new WavFileSource(path, NullLogger<WavFileSource>.Instance);

        Assert.Equal(new AudioFormat(48_000, 2), source.Format);
        var samples = await ReadAllAsync(source, TestContext.Current.CancellationToken, bufferSamples: 3);
        Assert.Equal([0.5f, -0.5f, 8_388_607 / 8_388_608f, -1f, 1 / 8_388_608f, -1 / 8_388_608f], samples); // 3 samples hold one whole stereo frame
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_Float32_ReadsSamplesAndSilencesNaN()
    {
        var path = Write("float.wav", new WavBuilder()
            .Chunk("fmt ", WavBuilder.Fmt(3, 1, 44_100, 32))
            .Chunk("data", WavBuilder.Float32(0.25f, -0.75f, float.NaN, 1.5f))
            .Build());
        await using var source = new WavFileSource(path, NullLogger<WavFileSource>.Instance);

        var samples = await ReadAllAsync(source, TestContext.Current.CancellationToken);
        Assert.Equal([0.25f, -0.75f, 0f, 1.5f], samples);
    }

    [Theory(Timeout = 30000)]
    [InlineData(1, 16, 16)]
    [InlineData(1, 24, 20)]
    [InlineData(3, 32, 32)]
    public async Task ReadAsync_Extensible_ReadsItsSubFormat(int subFormat, int bits, int validBits)
    {
        byte[] data = bits switch
        {
            16 => WavBuilder.Pcm16(16_384, -16_384),
            24 => WavBuilder.Pcm24(4_194_304, -4_194_304),
            _ => WavBuilder.Float32(0.5f, -0.5f),
        };
        var path = Write("extensible.wav", new WavBuilder()
            .Chunk("fmt ", WavBuilder.FmtExtensible((ushort)subFormat, 2, 96_000, bits, validBits))
            .Chunk("data", data)
            .Build());
        await using var source = new WavFileSource(path, NullLogger<WavFileSource>.Instance);

        Assert.Equal(new AudioFormat(96_000, 2), source.Format);
        var samples = await ReadAllAsync(source, TestContext.Current.CancellationToken);
        Assert.Equal([0.5f, -0.5f], samples);
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_OddSizedUnknownChunksAnywhere_SkipsThemWithPadBytes()
    {
        var path = Write("chunks.wav", new WavBuilder()
            .Chunk("LIST", [1, 2, 3, 4, 5]) // odd size: a pad byte follows
            .Chunk("fmt ", WavBuilder.Fmt(1, 1, 16_000, 16))
            .Chunk("junk", [9, 9, 9])
            .Chunk("data", WavBuilder.Pcm16(100, 200, 300))
            .Chunk("id3 ", [7])
            .Build());
        await using var source = new WavFileSource(path, NullLogger<WavFileSource>.Instance);

        var samples = await ReadAllAsync(source, TestContext.Current.CancellationToken);
        Assert.Equal([100 / 32_768f, 200 / 32_768f, 300 / 32_768f], samples);
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_DataBeforeFmt_ReadsTheSamples()
    {
        var path = Write("late-fmt.wav", new WavBuilder()
            .Chunk("data", WavBuilder.Pcm16(1_000, 2_000, 3_000))
            .Chunk("fmt ", WavBuilder.Fmt(1, 1, 8_000, 16))
            .Build());
        await using var source = new WavFileSource(path, NullLogger<WavFileSource>.Instance);

        var samples = await ReadAllAsync(source, TestContext.Current.CancellationToken);
        Assert.Equal([1_000 / 32_768f, 2_000 / 32_768f, 3_000 / 32_768f], samples);
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_DataShorterThanDeclared_ReadsWhatIsThereAndWarnsOnce()
    {
        var bytes = new WavBuilder()
            .Chunk("fmt ", WavBuilder.Fmt(1, 1, 48_000, 16))
            .Chunk("data", WavBuilder.Pcm16(1, 2, 3, 4), declaredSize: 48_000)
            .Build();
        var path = Write("cut.wav", bytes[..^1]); // also cut inside the last sample
        var logger = new ListLogger<WavFileSource>();
        await using var source = new WavFileSource(path, logger);

        var samples = await ReadAllAsync(source, TestContext.Current.CancellationToken);
        Assert.Equal([1 / 32_768f, 2 / 32_768f, 3 / 32_768f], samples);
        Assert.Equal(0, await source.ReadAsync(new float[8], TestContext.Current.CancellationToken));
        var warning = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains("cut.wav", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_TruncatedHeader_NamesFileAndWhatIsMissing()
    {
        var path = Write("short.wav", "RIFF\x10\0\0\0WA"u8.ToArray());
        var ex = Rejects(path);

        Assert.Contains("short.wav", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ends inside the RIFF header (10 of 12 bytes)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_TruncatedFmtChunk_NamesFileAndChunk()
    {
        var full = new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 1, 48_000, 16)).Chunk("data", WavBuilder.Pcm16(1)).Build();
        var ex = Rejects(Write("cutfmt.wav", full[..26]));

        Assert.Contains("cutfmt.wav", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ends inside the 'fmt ' chunk", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NotRiff_NamesFileAndWhatItStartsWith()
    {
        var ex = Rejects(Write("song.mp3", "ID3\x04 some mp3 bytes"u8.ToArray()));

        Assert.Contains("song.mp3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not a WAV file", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'ID3.'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("16- or 24-bit PCM or 32-bit float", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_RiffButNotWave_NamesTheRiffType()
    {
        var ex = Rejects(Write("clip.avi", new WavBuilder { FormType = "AVI " }.Chunk("LIST", [0, 0]).Build()));

        Assert.Contains("clip.avi", ex.Message, StringComparison.Ordinal);
        Assert.Contains("RIFF file of type 'AVI ', not 'WAVE'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 1, 8, "8-bit PCM is not supported; use 16- or 24-bit PCM or 32-bit float")]
    [InlineData(1, 1, 32, "32-bit integer PCM is not supported")]
    [InlineData(6, 1, 8, "A-law (format 6) is not supported")]
    [InlineData(3, 1, 64, "64-bit float is not supported")]
    [InlineData(1, 6, 16, "6 channels are not supported; use a mono or stereo file")]
    public void Create_UnsupportedEncoding_NamesFileWhatWasFoundAndWhatWorks(int tag, int channels, int bits, string expected)
    {
        var path = Write("talk.wav", new WavBuilder()
            .Chunk("fmt ", WavBuilder.Fmt((ushort)tag, channels, 48_000, bits))
            .Chunk("data", new byte[64])
            .Build());
        var ex = Rejects(path);

        Assert.StartsWith(path + ": ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_UnsupportedExtensibleSubFormat_NamesIt()
    {
        var path = Write("ext.wav", new WavBuilder()
            .Chunk("fmt ", WavBuilder.FmtExtensible(6, 1, 8_000, 8, 8))
            .Chunk("data", new byte[8])
            .Build());

        Assert.Contains("A-law (format 6) (in WAVE_FORMAT_EXTENSIBLE) is not supported", Rejects(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_BadBlockAlign_NamesFoundAndExpected()
    {
        var path = Write("align.wav", new WavBuilder()
            .Chunk("fmt ", WavBuilder.Fmt(1, 2, 48_000, 16, blockAlign: 3))
            .Chunk("data", new byte[12])
            .Build());
        var ex = Rejects(path);

        Assert.Contains("align.wav", ex.Message, StringComparison.Ordinal);
        Assert.Contains("block align of 3 bytes for 2 channel(s) of 16-bit PCM (4 expected)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_SampleRateOutOfRange_NamesTheRate()
    {
        var path = Write("slow.wav", new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 1, 4_000, 16)).Chunk("data", new byte[2]).Build());

        Assert.Contains("a sample rate of 4000 Hz is not supported; use 8000 to 384000 Hz", Rejects(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_MissingDataChunk_NamesTheChunksFound()
    {
        var path = Write("nodata.wav", new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 1, 48_000, 16)).Chunk("LIST", [1, 2]).Build());
        var ex = Rejects(path);

        Assert.Contains("nodata.wav", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no 'data' chunk", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'fmt ', 'LIST'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_MissingFmtChunk_NamesTheChunksFound()
    {
        var ex = Rejects(Write("nofmt.wav", new WavBuilder().Chunk("data", WavBuilder.Pcm16(1, 2)).Build()));

        Assert.Contains("nofmt.wav", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no 'fmt ' chunk (found chunks 'data')", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadHeader_NonSeekableStream_ParsesAndStopsAtFirstSample()
    {
        var bytes = new WavBuilder()
            .Chunk("bext", new byte[11])
            .Chunk("fmt ", WavBuilder.Fmt(1, 2, 32_000, 16))
            .Chunk("data", WavBuilder.Pcm16(5, 6))
            .Build();
        using var stream = new ForwardOnlyStream(bytes);

        var layout = WavReader.ReadHeader(stream, "pipe");

        Assert.Equal(new WavLayout(PcmEncoding.Int16, 32_000, 2, 12 + 8 + 12 + 8 + 16 + 8, 4), layout);
        Assert.Equal(5, stream.ReadByte());
    }

    /// <summary>A stream that can only be read forwards, like a pipe.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }
}
