namespace CaptionSidecar.Overlay;

/// <summary>
/// What the control API and the control page may see and change in the host. The host (the Sidecar) implements
/// it; this library only calls it.
/// </summary>
public interface IControlSurface
{
    /// <summary>A snapshot of the host's state for <c>GET /api/status</c>; called on every poll, keep it cheap.</summary>
    ControlStatus GetStatus();

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
