using System.Numerics;
using System.Runtime.InteropServices;

namespace CaptionSidecar.Audio;

/// <summary>
/// Streaming windowed-sinc resampler (Kaiser window, polyphase table) from any rate to 24 kHz mono. It keeps the
/// input history between calls, so feeding a stream in pieces of any size gives the same samples as one call.
/// Output sample n sits exactly at input time n * inputRate / outputRate (no delay): the filter looks ahead half
/// its length, and <see cref="Flush"/> supplies the last outputs by treating the input after the end as silence.
/// </summary>
/// <remarks>
/// The low-pass cutoff sits just below the lower Nyquist frequency with a transition band of about +/-10 % around
/// it, which keeps the passband flat to 0.88 x Nyquist and the stopband below -90 dB from 1.1 x Nyquist (aliases of
/// those frequencies land above the passband). A 48 kHz input uses 128 taps; 44.1 kHz 120; upsampling 64.
/// </remarks>
internal sealed class Resampler
{
    /// <summary>Filter length counted in samples of the lower of the two rates.</summary>
    private const int WindowLengthAtLowerRate = 64;

    /// <summary>Cutoff as a fraction of the lower Nyquist frequency.</summary>
    private const double CutoffFraction = 0.99;

    /// <summary>Kaiser beta for about 100 dB of stopband attenuation.</summary>
    private const double KaiserBeta = 10.0;

    /// <summary>
    /// Above this many phases (rates with a small common divisor with 24 kHz, such as 44101 Hz) the table holds this
    /// many phases and each output interpolates linearly between the two nearest.
    /// </summary>
    private const int MaxExactPhases = 1024;

    private readonly float[][] _phases;
    private readonly int _taps;
    private readonly int _upFactor;   // L: output rate / gcd
    private readonly int _downFactor; // M: input rate / gcd
    private readonly bool _interpolatePhases;
    private readonly int _tablePhases;
    private float[] _buffer;
    private int _bufferCount;

    // The next output's position: input index (relative to _buffer[0]) of the sample at or before it, and the
    // fractional part in units of 1/L.
    private int _index;
    private int _phase;
    private long _inputTotal;
    private long _outputTotal;
    private float[] _output = [];

    /// <summary>Creates a resampler from <paramref name="inputRate"/> to <paramref name="outputRate"/>.</summary>
    public Resampler(int inputRate, int outputRate = AudioChunk.SampleRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputRate, 1000);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputRate, 1000);
        InputRate = inputRate;
        OutputRate = outputRate;
        var gcd = Gcd(inputRate, outputRate);
        _upFactor = outputRate / gcd;
        _downFactor = inputRate / gcd;

        if (IsPassThrough)
        {
            _phases = [];
            _buffer = [];
            return;
        }

        var lowerRate = Math.Min(inputRate, outputRate);
        var taps = (int)Math.Ceiling(WindowLengthAtLowerRate * (double)inputRate / lowerRate);
        var lanes = Vector<float>.Count;
        _taps = (taps + lanes - 1) / lanes * lanes;

        _interpolatePhases = _upFactor > MaxExactPhases;
        _tablePhases = _interpolatePhases ? MaxExactPhases : _upFactor;
        var cutoff = CutoffFraction * lowerRate / 2 / inputRate; // cycles per input sample
        _phases = new float[_tablePhases + (_interpolatePhases ? 1 : 0)][];
        for (var p = 0; p < _phases.Length; p++)
        {
            _phases[p] = DesignPhase((double)p / _tablePhases, _taps, cutoff);
        }

        // Start with half a filter of silence before the first sample so output 0 lines up with input 0.
        _buffer = new float[Math.Max(4096, _taps * 2)];
        _bufferCount = _taps / 2 - 1;
        _index = _taps / 2 - 1;
    }

    /// <summary>Input rate in Hz.</summary>
    public int InputRate { get; }

    /// <summary>Output rate in Hz.</summary>
    public int OutputRate { get; }

    /// <summary>Filter taps per output sample (0 when passing through).</summary>
    public int Taps => _taps;

    /// <summary>True when input and output rates are equal: samples pass through untouched.</summary>
    public bool IsPassThrough => _upFactor == _downFactor;

    /// <summary>
    /// Resamples the next piece of the stream. The returned span is valid until the next call (for pass-through it
    /// is <paramref name="input"/> itself).
    /// </summary>
    public ReadOnlySpan<float> Process(ReadOnlySpan<float> input)
    {
        _inputTotal += input.Length;
        if (IsPassThrough)
        {
            _outputTotal += input.Length;
            return input;
        }

        EnsureBufferRoom(input.Length);
        input.CopyTo(_buffer.AsSpan(_bufferCount));
        _bufferCount += input.Length;
        return Produce(long.MaxValue);
    }

    /// <summary>
    /// Ends the stream: returns the last outputs (the input after the end counts as silence), so the whole stream
    /// gives round(inputLength * outputRate / inputRate) samples. The resampler can be reused for a new stream after.
    /// </summary>
    public ReadOnlySpan<float> Flush()
    {
        if (IsPassThrough)
        {
            _inputTotal = _outputTotal = 0;
            return [];
        }

        var total = (_inputTotal * _upFactor + _downFactor / 2) / _downFactor;
        EnsureBufferRoom(_taps);
        _buffer.AsSpan(_bufferCount, _taps).Clear();
        _bufferCount += _taps;
        var result = Produce(total);

        _bufferCount = _taps / 2 - 1;
        _buffer.AsSpan(0, _bufferCount).Clear();
        _index = _bufferCount;
        _phase = 0;
        _inputTotal = _outputTotal = 0;
        return result;
    }

    private ReadOnlySpan<float> Produce(long outputLimit)
    {
        // Output at (_index, _phase) needs input from _index - taps/2 + 1 to _index + taps/2.
        var half = _taps / 2;
        var available = _bufferCount - half - _index;
        var count = 0;
        if (available > 0)
        {
            var estimate = (long)available * _upFactor / _downFactor + 2;
            count = (int)Math.Min(estimate, outputLimit - _outputTotal);
        }

        if (_output.Length < count)
        {
            _output = new float[Math.Max(count, _output.Length * 2)];
        }

        var produced = 0;
        var stepWhole = _downFactor / _upFactor;
        var stepPhase = _downFactor % _upFactor;
        var buffer = _buffer;
        while (produced < count && _index + half < _bufferCount)
        {
            var window = new ReadOnlySpan<float>(buffer, _index - half + 1, _taps);
            _output[produced++] = _interpolatePhases ? InterpolatedDot(window, _phase) : Dot(window, _phases[_phase]);
            _index += stepWhole;
            _phase += stepPhase;
            if (_phase >= _upFactor)
            {
                _phase -= _upFactor;
                _index++;
            }
        }

        _outputTotal += produced;
        Compact();
        return new ReadOnlySpan<float>(_output, 0, produced);
    }

    private float InterpolatedDot(ReadOnlySpan<float> window, int phase)
    {
        var position = (double)phase * _tablePhases / _upFactor;
        var lower = (int)position;
        var fraction = (float)(position - lower);
        var a = Dot(window, _phases[lower]);
        var b = Dot(window, _phases[lower + 1]);
        return a + (fraction * (b - a));
    }

    /// <summary>Drops input that no future output needs, keeping the history in front of the next output.</summary>
    private void Compact()
    {
        var keepFrom = _index - (_taps / 2) + 1;
        if (keepFrom <= 0)
        {
            return;
        }

        var keep = Math.Max(0, _bufferCount - keepFrom);
        _buffer.AsSpan(keepFrom, keep).CopyTo(_buffer);
        _bufferCount = keep;
        _index -= keepFrom;
    }

    private void EnsureBufferRoom(int more)
    {
        if (_bufferCount + more > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_bufferCount + more, _buffer.Length * 2));
        }
    }

    /// <summary>The SIMD dot product every output sample comes from (<paramref name="samples"/> at least as long as the coefficients).</summary>
    internal static float Dot(ReadOnlySpan<float> samples, ReadOnlySpan<float> coefficients)
    {
        if (samples.Length < coefficients.Length)
        {
            throw new ArgumentException("Fewer samples than coefficients.", nameof(samples));
        }

        ref var x = ref MemoryMarshal.GetReference(samples);
        ref var h = ref MemoryMarshal.GetReference(coefficients);
        var lanes = Vector<float>.Count;
        var n = coefficients.Length;
        var sum0 = Vector<float>.Zero;
        var sum1 = Vector<float>.Zero;
        var sum2 = Vector<float>.Zero;
        var sum3 = Vector<float>.Zero;
        var k = 0;
        // Four independent sums keep the multiply-add units busy instead of waiting on one running total.
        for (; k <= n - (4 * lanes); k += 4 * lanes)
        {
            sum0 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref x, (nuint)k), Vector.LoadUnsafe(ref h, (nuint)k), sum0);
            sum1 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref x, (nuint)(k + lanes)), Vector.LoadUnsafe(ref h, (nuint)(k + lanes)), sum1);
            sum2 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref x, (nuint)(k + (2 * lanes))), Vector.LoadUnsafe(ref h, (nuint)(k + (2 * lanes))), sum2);
            sum3 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref x, (nuint)(k + (3 * lanes))), Vector.LoadUnsafe(ref h, (nuint)(k + (3 * lanes))), sum3);
        }

        for (; k <= n - lanes; k += lanes)
        {
            sum0 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref x, (nuint)k), Vector.LoadUnsafe(ref h, (nuint)k), sum0);
        }

        var total = Vector.Sum((sum0 + sum1) + (sum2 + sum3));
        for (; k < n; k++)
        {
            total += samples[k] * coefficients[k];
        }

        return total;
    }

    /// <summary>
    /// Coefficients for an output that lies <paramref name="fraction"/> of a sample after input index i: tap k
    /// multiplies input i - taps/2 + 1 + k. Normalized to a sum of one so DC passes exactly at every phase.
    /// </summary>
    private static float[] DesignPhase(double fraction, int taps, double cutoff)
    {
        var half = taps / 2;
        var coefficients = new double[taps];
        var sum = 0.0;
        for (var k = 0; k < taps; k++)
        {
            var t = fraction + half - 1 - k; // distance from the input sample to the output position
            var x = 2 * cutoff * t;
            var sinc = Math.Abs(x) < 1e-12 ? 1.0 : Math.Sin(Math.PI * x) / (Math.PI * x);
            var value = 2 * cutoff * sinc * Kaiser(t / half);
            coefficients[k] = value;
            sum += value;
        }

        var result = new float[taps];
        for (var k = 0; k < taps; k++)
        {
            result[k] = (float)(coefficients[k] / sum);
        }

        return result;
    }

    /// <summary>Kaiser window at <paramref name="position"/> in [-1, 1] (zero outside).</summary>
    private static double Kaiser(double position)
    {
        if (Math.Abs(position) >= 1)
        {
            return 0;
        }

        return BesselI0(KaiserBeta * Math.Sqrt(1 - (position * position))) / BesselI0(KaiserBeta);
    }

    private static double BesselI0(double x)
    {
        var sum = 1.0;
        var term = 1.0;
        var quarterSquare = x * x / 4;
        for (var k = 1; k < 200 && term > sum * 1e-17; k++)
        {
            term *= quarterSquare / (k * k);
            sum += term;
        }

        return sum;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
