using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

public sealed class ResamplerTests
{
    private const int Out = AudioChunk.SampleRate;
    private const double Amplitude = 0.5;

    public static TheoryData<int, double> PassbandEdges => new() { { 48_000, 10_000 }, { 44_100, 10_000 }, { 16_000, 7_000 } };

    /// <summary>Resamples a whole signal in one call plus the flush.</summary>
    private static float[] Resample(int rate, float[] input)
    {
        var resampler = new Resampler(rate);
        float[] body = [.. resampler.Process(input)]; // copied before Flush reuses the output buffer
        return [.. body, .. resampler.Flush()];
    }

    /// <summary>The middle of the output, away from the silence before and after the signal.</summary>
    private static ReadOnlySpan<float> Steady(float[] output) => output.AsSpan(400, output.Length - 800);

    [Theory]
    [MemberData(nameof(PassbandEdges))]
    public void Process_SinesInPassband_RippleBelowTenthOfDecibel(int rate, double passbandEdge)
    {
        var gains = new List<double>();
        for (var f = 50.0; f <= passbandEdge; f += f < 1000 ? 150 : 250)
        {
            var output = Resample(rate, SignalMath.Sine(f, rate, rate / 4, Amplitude));
            var (amplitude, _) = SignalMath.FitSine(Steady(output), f, Out);
            gains.Add(SignalMath.Db(amplitude / Amplitude));
        }

        gains.Add(SignalMath.Db(SignalMath.FitSine(Steady(Resample(rate, SignalMath.Sine(passbandEdge, rate, rate / 4, Amplitude))), passbandEdge, Out).Amplitude / Amplitude));
        Assert.True(gains.Max() - gains.Min() < 0.1, $"ripple {gains.Max() - gains.Min():F4} dB (gains {gains.Min():F4} .. {gains.Max():F4})");
        Assert.All(gains, g => Assert.InRange(g, -0.1, 0.1));
    }

    [Theory]
    [InlineData(48_000)]
    [InlineData(44_100)]
    public void Process_SinesAbove13500Hz_AliasesAtLeast90DbDown(int rate)
    {
        var worst = double.NegativeInfinity;
        var worstFrequency = 0.0;
        for (var f = 13_500.0; f < rate / 2.0; f += 97)
        {
            var output = Resample(rate, SignalMath.Sine(f, rate, rate / 4, Amplitude));
            var level = SignalMath.Db(SignalMath.Rms(Steady(output)) * Math.Sqrt(2) / Amplitude);
            Assert.False(double.IsNaN(level));
            if (level > worst)
            {
                worst = level;
                worstFrequency = f;
            }
        }

        Assert.True(worst <= -90, $"worst stopband level {worst:F1} dB at {worstFrequency} Hz");
    }

    [Fact]
    public void Process_16kHzSinesUpTo7kHz_CreateNoImageAbove90DbBelowTone()
    {
        var worst = double.NegativeInfinity;
        for (var f = 100.0; f <= 7_000; f += 113)
        {
            var output = Resample(16_000, SignalMath.Sine(f, 16_000, 4_000, Amplitude));
            var (_, residual) = SignalMath.FitSine(Steady(output), f, Out);
            worst = Math.Max(worst, SignalMath.Db(residual * Math.Sqrt(2) / Amplitude));
        }

        Assert.True(worst <= -90, $"worst image level {worst:F1} dB");
    }

    [Theory]
    [InlineData(48_000)]
    [InlineData(44_100)]
    [InlineData(16_000)]
    [InlineData(22_050)]
    [InlineData(8_000)]
    [InlineData(96_000)]
    [InlineData(44_101)] // shares only 1 Hz with 24 kHz: the interpolated-phase path
    public void Process_ConstantInput_KeepsDcWithinTenthOfPercentAndMakesNoNaN(int rate)
    {
        var input = Enumerable.Repeat(0.5f, rate / 2).ToArray();
        var output = Resample(rate, input);

        Assert.DoesNotContain(output, float.IsNaN);
        foreach (var s in Steady(output))
        {
            Assert.InRange(s, 0.5f * 0.999f, 0.5f * 1.001f);
        }
    }

    [Theory]
    [InlineData(44_101, 1_000.0)]
    [InlineData(22_050, 5_000.0)]
    public void Process_UnusualRates_KeepToneFrequencyAndLevel(int rate, double frequency)
    {
        var output = Resample(rate, SignalMath.Sine(frequency, rate, rate / 2, Amplitude));
        var (amplitude, residual) = SignalMath.FitSine(Steady(output), frequency, Out);

        Assert.InRange(SignalMath.Db(amplitude / Amplitude), -0.1, 0.1);
        Assert.True(SignalMath.Db(residual / Amplitude) < -80, $"residual {SignalMath.Db(residual / Amplitude):F1} dB");
    }

    [Theory]
    [InlineData(48_000, 48_000, 24_000)]
    [InlineData(48_000, 48_001, 24_001)]
    [InlineData(44_100, 44_100, 24_000)]
    [InlineData(44_100, 441, 240)]
    [InlineData(16_000, 16_000, 24_000)]
    [InlineData(16_000, 1, 2)]
    [InlineData(8_000, 12_345, 37_035)]
    [InlineData(22_050, 100_000, 108_844)]
    public void Flush_WholeStream_OutputLengthIsRoundedExactRatio(int rate, int inputLength, int expected)
    {
        var output = Resample(rate, new float[inputLength]);

        Assert.Equal(expected, output.Length);
        Assert.Equal(Math.Round(inputLength * (double)Out / rate, MidpointRounding.AwayFromZero), output.Length);
    }

    [Theory]
    [InlineData(48_000)]
    [InlineData(44_100)]
    [InlineData(16_000)]
    [InlineData(44_101)]
    public void Process_OddSizedPieces_EqualsOneShot(int rate)
    {
        var input = new float[rate / 2];
        var random = new Random(rate);
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)(random.NextDouble() - 0.5);
        }

        var oneShot = Resample(rate, input);
        var resampler = new Resampler(rate);
        var pieces = new List<float>();
        int[] sizes = [1, 7, 13, 0, 1_001, 3, 480, 2, 4_099];
        var offset = 0;
        for (var n = 0; offset < input.Length; n++)
        {
            var size = Math.Min(sizes[n % sizes.Length], input.Length - offset);
            pieces.AddRange(resampler.Process(input.AsSpan(offset, size)));
            offset += size;
        }

        pieces.AddRange(resampler.Flush());
        Assert.Equal(oneShot, pieces);
    }

    [Fact]
    public void Process_24kHzInput_PassesThroughUntouched()
    {
        var input = SignalMath.Sine(1_000, Out, 1_000);
        var resampler = new Resampler(Out);

        Assert.True(resampler.IsPassThrough);
        Assert.Equal(input, resampler.Process(input).ToArray());
        Assert.Equal(0, resampler.Flush().Length);
    }

    [Fact]
    public void Process_48kHzTone_LandsAtSameTimeInOutput()
    {
        // A click at input sample 4800 (0.1 s) must peak at output sample 2400: the resampler adds no delay.
        var input = new float[9_600];
        input[4_800] = 1;
        var output = Resample(48_000, input);
        var peak = Array.IndexOf(output, output.Max());

        Assert.Equal(2_400, peak);
    }
}
