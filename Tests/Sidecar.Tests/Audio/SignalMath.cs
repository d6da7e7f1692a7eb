namespace CaptionSidecar.Tests.Audio;

/// <summary>Test signals and measurements for the audio tests.</summary>
internal static class SignalMath
{
    public static float[] Sine(double frequency, int rate, int length, double amplitude = 0.5)
    {
        var samples = new float[length];
        for (var i = 0; i < length; i++)
        {
            samples[i] = (float)(amplitude * Math.Sin(2 * Math.PI * frequency * i / rate));
        }

        return samples;
    }

    /// <summary>
    /// Least-squares fit of a sinusoid of <paramref name="frequency"/> to <paramref name="samples"/>: its amplitude, and
    /// the RMS of what is left after removing it (everything that is not that tone: aliases, images, noise).
    /// </summary>
    public static (double Amplitude, double ResidualRms) FitSine(ReadOnlySpan<float> samples, double frequency, int rate)
    {
        double ss = 0, sc = 0, cc = 0, ys = 0, yc = 0;
        for (var i = 0; i < samples.Length; i++)
        {
            var w = 2 * Math.PI * frequency * i / rate;
            var s = Math.Sin(w);
            var c = Math.Cos(w);
            ss += s * s;
            sc += s * c;
            cc += c * c;
            ys += samples[i] * s;
            yc += samples[i] * c;
        }

        var det = (ss * cc) - (sc * sc);
        var a = ((ys * cc) - (yc * sc)) / det;
        var b = ((yc * ss) - (ys * sc)) / det;
        double residual = 0;
        for (var i = 0; i < samples.Length; i++)
        {
            var w = 2 * Math.PI * frequency * i / rate;
            var r = samples[i] - ((a * Math.Sin(w)) + (b * Math.Cos(w)));
            residual += r * r;
        }

        return (Math.Sqrt((a * a) + (b * b)), Math.Sqrt(residual / samples.Length));
    }

    public static double Rms(ReadOnlySpan<float> samples)
    {
        double sum = 0;
        foreach (var s in samples)
        {
            sum += s * s;
        }

        return Math.Sqrt(sum / samples.Length);
    }

    public static double Db(double ratio) => 20 * Math.Log10(ratio);
}
