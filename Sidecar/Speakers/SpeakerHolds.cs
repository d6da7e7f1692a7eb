using CaptionSidecar.Hosting;
using CaptionSidecar.ObsBridge;
using CaptionSidecar.Outputs;
using CaptionSidecar.Realtime;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Speakers;

/// <summary>
/// Makes each speaker's audio hold from their OBS mute source (see <see cref="AudioHoldChoice"/>): one OBS mute
/// watch per source, created on first use and disposed with the host.
/// </summary>
internal sealed class SpeakerHolds(
    IOptions<ObsOptions> obs, EngineChoice engine, IOptions<RealtimeOptions> realtime, IServiceProvider services) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ObsInputMuteWatch> _watches = new(StringComparer.Ordinal);

    /// <summary>The hold of <paramref name="speaker"/>, and the sentence that says so (null when none was asked for).</summary>
    public AudioHoldChoice For(Speaker speaker)
    {
        ArgumentNullException.ThrowIfNull(speaker);
        return AudioHoldChoice.Resolve(speaker.ObsMuteSource, obs.Value, engine, realtime.Value, name => new ObsMuteHold(Watch(name)));
    }

    private ObsInputMuteWatch Watch(string name)
    {
        lock (_gate)
        {
            if (!_watches.TryGetValue(name, out var watch))
            {
                watch = new ObsInputMuteWatch(services.GetRequiredService<ObsClient>(), name, services.GetRequiredService<ILogger<ObsInputMuteWatch>>());
                _watches[name] = watch;
            }

            return watch;
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<ObsInputMuteWatch> watches;
        lock (_gate)
        {
            watches = [.. _watches.Values];
            _watches.Clear();
        }

        foreach (var watch in watches)
        {
            await watch.DisposeAsync();
        }
    }
}
