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

    /// <summary>
    /// The speakers for <c>GET /api/speakers</c>, as a JSON array of objects whose schema the host owns (as with
    /// <see cref="GetStatus"/>); each has at least a string <c>name</c>, the key <c>PUT /api/speakers/{name}</c> takes.
    /// A host without speakers need not implement it: the default is an empty array.
    /// </summary>
    JsonElement GetSpeakers() => NoSpeakers;

    /// <summary>
    /// Captions (<paramref name="captioned"/> true) or mutes the speaker named <paramref name="name"/> for
    /// <c>PUT /api/speakers/{name}</c>. The default (a host without speakers) knows no speaker.
    /// </summary>
    /// <returns>The speaker's new state, a JSON object shaped like an element of <see cref="GetSpeakers"/>; null when the host has no speaker named <paramref name="name"/>.</returns>
    Task<JsonElement?> SetSpeakerCaptionedAsync(string name, bool captioned, CancellationToken cancellationToken) =>
        Task.FromResult<JsonElement?>(null);

    /// <summary>
    /// Changes the settings of the host's output named <paramref name="name"/> for <c>PUT /api/outputs/{name}</c>
    /// (for example turning it on, giving it a URL). <paramref name="settings"/> is the request's JSON object, whose
    /// schema the host owns, as with <see cref="GetStatus"/>. The default (a host with no such outputs) knows none.
    /// </summary>
    /// <returns>The output's new state as a JSON object; null when the host has no output named <paramref name="name"/>.</returns>
    /// <exception cref="ArgumentException">A setting is invalid: the message (shown to the moderator) says what to fix.</exception>
    Task<JsonElement?> ConfigureOutputAsync(string name, JsonElement settings, CancellationToken cancellationToken) =>
        Task.FromResult<JsonElement?>(null);

    /// <summary>An empty JSON array: the speakers of a host without any.</summary>
    private static readonly JsonElement NoSpeakers = JsonElement.Parse("[]");
}
