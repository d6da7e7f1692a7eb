namespace CaptionSidecar.Tests.Audio;

/// <summary>
/// The test classes that use the one headless PulseAudio daemon: they run one after another, because one of them
/// stops and restarts the daemon.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PulseAudioDaemon
{
    /// <summary>The collection name for <c>[Collection(PulseAudioDaemon.Name)]</c>.</summary>
    public const string Name = "PulseAudio daemon";
}
