namespace CaptionSidecar.Audio;

/// <summary>
/// How a capture loop (PulseAudio, WASAPI) reopens a lost device: jittered waits from 250 ms doubling to 5 s, and
/// how loudly each failed attempt is reported. The first few failures each get a warning, then one warning a minute
/// or so (every twelfth attempt at the 5 s cap) and the rest only at debug level, so a device left unplugged for an
/// hour of stream leaves a readable log rather than hundreds of identical lines.
/// </summary>
internal static class ReopenBackoff
{
    /// <summary>The wait after the first failed attempt (before jitter).</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between attempts (before jitter).</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    /// <summary>Attempts that always get a warning.</summary>
    public const int FirstWarned = 5;

    /// <summary>After <see cref="FirstWarned"/>, every this many attempts gets a warning.</summary>
    public const int WarnEvery = 12;

    /// <summary><paramref name="delay"/> give or take 20%, so several lost devices do not retry in step.</summary>
    public static TimeSpan Jittered(TimeSpan delay) => delay * (0.8 + (0.4 * Random.Shared.NextDouble()));

    /// <summary>The delay after <paramref name="delay"/>: doubled, at most <see cref="MaxDelay"/>.</summary>
    public static TimeSpan Next(TimeSpan delay) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));

    /// <summary>True when failed attempt number <paramref name="attempt"/> (from 1) should be logged as a warning.</summary>
    public static bool IsWorthAWarning(int attempt) => attempt <= FirstWarned || attempt % WarnEvery == 0;

    /// <summary>The level to log failed attempt number <paramref name="attempt"/> at.</summary>
    public static LogLevel LevelFor(int attempt) => IsWorthAWarning(attempt) ? LogLevel.Warning : LogLevel.Debug;
}
