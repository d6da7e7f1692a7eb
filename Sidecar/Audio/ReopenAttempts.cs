namespace CaptionSidecar.Audio;

/// <summary>
/// How loudly to report failed attempts to reopen a lost audio device: the first few each get a warning, then one
/// warning a minute or so (every twelfth attempt at the 5 s backoff cap), the rest only at debug level, so a device
/// left unplugged for an hour of stream leaves a readable log rather than hundreds of identical lines.
/// </summary>
internal static class ReopenAttempts
{
    /// <summary>Attempts that always get a warning.</summary>
    public const int FirstWarned = 5;

    /// <summary>After <see cref="FirstWarned"/>, every this many attempts gets a warning.</summary>
    public const int WarnEvery = 12;

    /// <summary>True when failed attempt number <paramref name="attempt"/> (from 1) should be logged as a warning.</summary>
    public static bool IsWorthAWarning(int attempt) => attempt <= FirstWarned || attempt % WarnEvery == 0;
}
