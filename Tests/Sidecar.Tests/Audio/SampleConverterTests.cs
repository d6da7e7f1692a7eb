using System.Buffers.Binary;
using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

public sealed class SampleConverterTests
{
    private const int Frames = 5;

    public static TheoryData<string, int> EncodingsAndChannels()
    {
        var data = new TheoryData<string, int>();
        foreach (var encoding in Enum.GetValues<CaptureSampleEncoding>())
        {
            for (var channels = 1; channels <= 8; channels++)
            {
                data.Add(encoding.ToString(), channels);
            }
        }

        return data;
    }

    /// <summary>Sample of frame f, channel c: a multiple of 1/16 in [-1, 1), exact in every encoding.</summary>
    private static double Expected(int frame, int channel) => ((((frame * 8) + channel) % 32) - 16) / 16.0;

    private static byte[] Encode(CaptureSampleEncoding encoding, int channels)
    {
        var format = new CaptureFormat(encoding, 48_000, channels, 32);
        var data = new byte[Frames * format.BytesPerFrame];
        for (var f = 0; f < Frames; f++)
        {
            for (var c = 0; c < channels; c++)
            {
                var v = Expected(f, c);
                var at = data.AsSpan(((f * channels) + c) * format.BytesPerSample);
                switch (encoding)
                {
                    case CaptureSampleEncoding.Float32:
                        BinaryPrimitives.WriteSingleLittleEndian(at, (float)v);
                        break;
                    case CaptureSampleEncoding.Pcm16:
                        BinaryPrimitives.WriteInt16LittleEndian(at, (short)(v * 32_768));
                        break;
                    case CaptureSampleEncoding.Pcm24:
                        var i24 = (int)(v * 8_388_608);
                        at[0] = (byte)i24;
                        at[1] = (byte)(i24 >> 8);
                        at[2] = (byte)(i24 >> 16);
                        break;
                    default:
                        BinaryPrimitives.WriteInt32LittleEndian(at, (int)(v * 2_147_483_648.0));
                        break;
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EncodingsAndChannels))]
    public void ToFloat_EveryEncodingAndChannelCount_KeepsValuesAndChannelOrder(string encodingName, int channels)
    {
        var encoding = Enum.Parse<CaptureSampleEncoding>(encodingName);
        var format = new CaptureFormat(encoding, 48_000, channels, encoding == CaptureSampleEncoding.Pcm16 ? 16 : encoding == CaptureSampleEncoding.Pcm24 ? 24 : 32);
        var output = new float[(Frames * channels) + 3];

        var written = SampleConverter.ToFloat(Encode(encoding, channels), format, output);

        Assert.Equal(Frames * channels, written);
        for (var f = 0; f < Frames; f++)
        {
            for (var c = 0; c < channels; c++)
            {
                Assert.Equal((float)Expected(f, c), output[(f * channels) + c]);
            }
        }

        Assert.All(output[written..], s => Assert.Equal(0f, s));
    }

    [Theory]
    [InlineData(nameof(CaptureSampleEncoding.Pcm16), "0080", -1f)]
    [InlineData(nameof(CaptureSampleEncoding.Pcm16), "FF7F", 32_767 / 32_768f)]
    [InlineData(nameof(CaptureSampleEncoding.Pcm16), "FFFF", -1 / 32_768f)]
    [InlineData(nameof(CaptureSampleEncoding.Pcm24), "000080", -1f)]
    [InlineData(nameof(CaptureSampleEncoding.Pcm24), "FFFF7F", 8_388_607 / 8_388_608f)]
    [InlineData(nameof(CaptureSampleEncoding.Pcm24), "FFFFFF", -1 / 8_388_608f)]
    [InlineData(nameof(CaptureSampleEncoding.Pcm32), "00000080", -1f)]
    [InlineData(nameof(CaptureSampleEncoding.Pcm32), "00FFFF7F", 8_388_607 / 8_388_608f)] // 24 valid bits, left-justified
    [InlineData(nameof(CaptureSampleEncoding.Float32), "0000803F", 1f)]
    [InlineData(nameof(CaptureSampleEncoding.Float32), "0000C03F", 1.5f)] // over full scale: the chunker clamps, not the converter
    public void ToFloat_FullScaleAndSignEdges_ScaleByTheContainer(string encodingName, string hex, float expected)
    {
        var encoding = Enum.Parse<CaptureSampleEncoding>(encodingName);
        var output = new float[1];

        SampleConverter.ToFloat(Convert.FromHexString(hex), new CaptureFormat(encoding, 48_000, 1, 24), output);

        Assert.Equal(expected, output[0]);
    }

    [Fact]
    public void ToFloat_TrailingPartialFrame_IsIgnored()
    {
        var format = new CaptureFormat(CaptureSampleEncoding.Pcm16, 48_000, 2, 16);
        var output = new float[4];

        var written = SampleConverter.ToFloat(Convert.FromHexString("004000C00020"), format, output);

        Assert.Equal(2, written);
        Assert.Equal([0.5f, -0.5f, 0f, 0f], output);
    }

    [Fact]
    public void ToFloat_BufferTooSmall_ThrowsNamingTheSizes()
    {
        var format = new CaptureFormat(CaptureSampleEncoding.Float32, 48_000, 2, 32);

        var ex = Assert.Throws<ArgumentException>(() => SampleConverter.ToFloat(new byte[32], format, new float[7]));

        Assert.Contains("holds 7 samples; 8 are needed", ex.Message, StringComparison.Ordinal);
    }
}
