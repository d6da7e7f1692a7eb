using System.Buffers.Binary;
using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

public sealed class AudioChunkerTests
{
    private static short[] Samples(AudioChunk chunk)
    {
        var pcm = chunk.Pcm16.Span;
        var samples = new short[pcm.Length / 2];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = BinaryPrimitives.ReadInt16LittleEndian(pcm[(2 * i)..]);
        }

        return samples;
    }

    [Fact]
    public void Append_20Milliseconds_Makes480SampleChunksOf960Bytes()
    {
        var chunker = new AudioChunker(20);
        var chunks = new List<AudioChunk>();

        chunker.Append(new float[480 * 3 + 100], chunks);

        Assert.Equal(480, chunker.SamplesPerChunk);
        Assert.Equal(3, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(960, c.Pcm16.Length));
        Assert.All(chunks, c => Assert.Equal(TimeSpan.FromMilliseconds(20), c.Duration));
    }

    [Fact]
    public void Append_PiecesAcrossChunkBoundaries_NumbersChunksAndStartSamplesInOrder()
    {
        var chunker = new AudioChunker(10);
        var chunks = new List<AudioChunk>();
        var value = 0;
        foreach (var size in new[] { 1, 239, 240, 7, 500, 13 })
        {
            var piece = new float[size];
            for (var i = 0; i < size; i++)
            {
                piece[i] = value++ / 32_768f;
            }

            chunker.Append(piece, chunks);
        }

        Assert.Equal([0L, 1, 2, 3], chunks.Select(c => c.Sequence));
        Assert.Equal([0L, 240, 480, 720], chunks.Select(c => c.StartSample));
        Assert.Equal(Enumerable.Range(0, 960).Select(i => (short)i), chunks.SelectMany(Samples));
    }

    [Fact]
    public void Flush_PartialChunk_PadsWithSilenceAndContinuesNumbering()
    {
        var chunker = new AudioChunker(20);
        var chunks = new List<AudioChunk>();
        chunker.Append(Enumerable.Repeat(0.5f, 480 + 10).ToArray(), chunks);

        var last = chunker.Flush();

        Assert.NotNull(last);
        Assert.Equal(1, last.Value.Sequence);
        Assert.Equal(480, last.Value.StartSample);
        Assert.Equal(960, last.Value.Pcm16.Length);
        var samples = Samples(last.Value);
        Assert.All(samples[..10], s => Assert.Equal(16_384, s));
        Assert.All(samples[10..], s => Assert.Equal(0, s));
        Assert.Null(chunker.Flush());
    }

    [Fact]
    public void Flush_NothingPending_ReturnsNull()
    {
        var chunker = new AudioChunker(20);
        var chunks = new List<AudioChunk>();
        chunker.Append(new float[480], chunks);

        Assert.Null(chunker.Flush());
    }

    [Fact]
    public void WritePcm16_OutOfRangeAndFractionalValues_ClampsAndRounds()
    {
        float[] input = [2f, -2f, 1f, -1f, 0.5f / 32_768f * 3, -1.6f / 32_768f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0.25f];
        var bytes = new byte[input.Length * 2];

        AudioChunker.WritePcm16(input, bytes);

        var samples = Enumerable.Range(0, input.Length).Select(i => BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(2 * i))).ToArray();
        Assert.Equal([32_767, -32_768, 32_767, -32_768, 2, -2, 0, 32_767, -32_768, 8_192], samples);
    }
}
