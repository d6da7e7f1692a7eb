using System.Text.Json;

namespace CaptionSidecar.Overlay;

/// <summary>
/// What the control API and the control page may see and change in the host. The host (the Sidecar) implements
/// it; this library only calls it.
/// </summary>
public interface IControlSurface
{
    /// <summary>
    /// A snapshot of the host's state for <c>GET /api/status</c>, as a JSON object whose schema the host owns: this
    /// library passes it through unchanged, so a new status field changes only the host (and the control page, if it
    /// is to show it). The control page reads the fields it knows (listed at the top of <c>control.js</c>) and skips
    /// missing ones. Called on every poll (twice a second per open control page), so keep it cheap.
    /// </summary>
    JsonElement GetStatus();

    /// <summary>Every language the host knows, enabled or not, for <c>GET /api/languages</c>.</summary>
    IReadOnlyList<LanguageState> GetLanguages();

    /// <summary>Enables or disables one language (a code from <see cref="GetLanguages"/>).</summary>
    /// <returns>False when the host does not know <paramref name="code"/>.</returns>
    Task<bool> SetLanguageEnabledAsync(string code, bool enabled, CancellationToken cancellationToken);

    /// <summary>Clears the captions on every output.</summary>
    Task ClearCaptionsAsync(CancellationToken cancellationToken);

    /// <summary>Shows a short test line on every output so the streamer can check the layout.</summary>
    Task ShowTestCaptionAsync(CancellationToken cancellationToken);
}
