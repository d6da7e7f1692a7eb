namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// Tests that use the real headless OBS run one at a time: one of them kills and restarts OBS, which would fail any
/// other test reading OBS at that moment.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RealObsCollection
{
    public const string Name = "Real OBS";
}
