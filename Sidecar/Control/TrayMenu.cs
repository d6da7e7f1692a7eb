using System.Globalization;
using System.Text;
using CaptionSidecar.Overlay;
using CaptionSidecar.Hosting;
using CaptionSidecar.Speakers;
using CaptionSidecar.Tracks;
using CaptionSidecar.YouTube;

namespace CaptionSidecar.Control;

/// <summary>What a tray menu item is, so the shell knows how to draw it and the model what a click does.</summary>
internal enum TrayMenuItemKind
{
    /// <summary>A line of status (Realtime, OBS, muted); greyed out, not clickable.</summary>
    Status,

    /// <summary>A caption language; checked when it is on, a click toggles it.</summary>
    Language,

    /// <summary>A named speaker; checked while captioned, a click mutes or captions them.</summary>
    Speaker,

    /// <summary>A line between groups; not clickable.</summary>
    Separator,

    /// <summary>Opens the control page (with its token) in the default browser.</summary>
    OpenControlPage,

    /// <summary>Opens the per-user folder with settings.json and the logs.</summary>
    OpenSettingsFolder,

    /// <summary>Puts the overlay URL on the clipboard.</summary>
    CopyOverlayUrl,

    /// <summary>Clears the captions on every output.</summary>
    ClearCaptions,

    /// <summary>Stops the sidecar.</summary>
    Quit,
}

/// <summary>One item of the tray menu.</summary>
/// <param name="Id">What <see cref="TrayMenu.ClickAsync"/> is given when the item is clicked.</param>
/// <param name="Text">The text shown.</param>
/// <param name="Checked">True to show a check mark.</param>
/// <param name="Enabled">False to show the item greyed out (not clickable).</param>
/// <param name="Kind">What the item is.</param>
internal sealed record TrayMenuItem(string Id, string Text, bool Checked, bool Enabled, TrayMenuItemKind Kind);

/// <summary>The whole tray menu and the icon's tooltip at one moment.</summary>
/// <param name="Items">The menu items, top to bottom.</param>
/// <param name="ToolTip">The icon's tooltip, at most <see cref="TrayMenu.MaxToolTipLength"/> characters.</param>
internal sealed record TrayMenuModel(IReadOnlyList<TrayMenuItem> Items, string ToolTip)
{
    /// <summary>True when both models show the same items and tooltip (so the shell needs no update).</summary>
    public bool Equals(TrayMenuModel? other) =>
        other is not null && ToolTip == other.ToolTip && Items.SequenceEqual(other.Items);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ToolTip, Items.Count);
}

/// <summary>What the tray does outside the sidecar: the browser, the clipboard, and stopping the host.</summary>
internal interface ITrayShellActions
{
    /// <summary>Opens <paramref name="url"/> in the user's default browser.</summary>
    void OpenUrl(Uri url);

    /// <summary>Opens <paramref name="path"/> in the file manager (Explorer).</summary>
    void OpenFolder(string path);

    /// <summary>Puts <paramref name="text"/> on the clipboard.</summary>
    void CopyToClipboard(string text);

    /// <summary>Stops the sidecar.</summary>
    void Quit();
}

/// <summary>
/// The tray menu, free of any platform: builds the items from the control surface (the same one the control API
/// uses) and carries out a click. The Win32 shell only draws the model and reports which item was clicked.
/// </summary>
internal sealed class TrayMenu
{
    /// <summary>Windows cuts a notify icon's tooltip at 127 characters (<c>szTip[128]</c> with its terminator).</summary>
    public const int MaxToolTipLength = 127;

    /// <summary>Prefix of a language item's id; the language code follows.</summary>
    public const string LanguageIdPrefix = "language:";

    /// <summary>Prefix of a speaker item's id; the speaker's name follows.</summary>
    public const string SpeakerIdPrefix = "speaker:";

    /// <summary>Id of "Open control page".</summary>
    public const string OpenControlPageId = "open-control-page";

    /// <summary>Id of "Open settings folder".</summary>
    public const string OpenSettingsFolderId = "open-settings-folder";

    /// <summary>Id of "Copy overlay URL".</summary>
    public const string CopyOverlayUrlId = "copy-overlay-url";

    /// <summary>Id of "Clear captions".</summary>
    public const string ClearCaptionsId = "clear-captions";

    /// <summary>Id of "Quit".</summary>
    public const string QuitId = "quit";

    private readonly ISidecarControl _surface;
    private readonly ITrayShellActions _shell;
    private readonly Uri _overlayUrl;
    private readonly Uri _controlUrl;
    private readonly string? _settingsFolder;

    /// <summary>Creates the menu over <paramref name="surface"/>.</summary>
    /// <param name="surface">The sidecar's control surface.</param>
    /// <param name="shell">The browser, clipboard and quit actions.</param>
    /// <param name="overlayUrl">The overlay's Browser Source URL, for "Copy overlay URL".</param>
    /// <param name="controlUrl">The control page URL with its token, for "Open control page".</param>
    /// <param name="settingsFolder">The per-user folder (settings.json, logs) for "Open settings folder"; null for no such item.</param>
    public TrayMenu(ISidecarControl surface, ITrayShellActions shell, Uri overlayUrl, Uri controlUrl, string? settingsFolder = null)
    {
        ArgumentNullException.ThrowIfNull(surface);
        ArgumentNullException.ThrowIfNull(shell);
        ArgumentNullException.ThrowIfNull(overlayUrl);
        ArgumentNullException.ThrowIfNull(controlUrl);
        _surface = surface;
        _shell = shell;
        _overlayUrl = overlayUrl;
        _controlUrl = controlUrl;
        _settingsFolder = settingsFolder;
    }

    /// <summary>The menu and tooltip as the sidecar stands now.</summary>
    public TrayMenuModel Build()
    {
        var languages = _surface.GetLanguages();
        var status = _surface.ReadStatus();
        // Status first, greyed out: what a streamer glances at before going live.
        var items = StatusItems(status).ToList();
        items.Add(Separator(3));
        foreach (var language in languages)
        {
            items.Add(new TrayMenuItem(LanguageIdPrefix + language.Code, language.Name, language.Enabled, Enabled: true, TrayMenuItemKind.Language));
        }

        if (languages.Count == 0)
        {
            items.Add(new TrayMenuItem("no-languages", "No caption languages", Checked: false, Enabled: false, TrayMenuItemKind.Language));
        }

        // Only named speakers: the one unnamed speaker of a sidecar without --speaker is the whole audio, which the
        // languages already turn on and off.
        var speakers = _surface.ReadSpeakers().Where(s => s.Label).ToList();
        if (speakers.Count > 0)
        {
            items.Add(Separator(0));
            foreach (var speaker in speakers)
            {
                items.Add(new TrayMenuItem(SpeakerIdPrefix + speaker.Name, speaker.Name, speaker.Captioned, Enabled: true, TrayMenuItemKind.Speaker));
            }
        }

        items.Add(Separator(1));
        items.Add(Action(OpenControlPageId, "Open control page", TrayMenuItemKind.OpenControlPage));
        if (_settingsFolder is not null)
        {
            items.Add(Action(OpenSettingsFolderId, "Open settings folder", TrayMenuItemKind.OpenSettingsFolder));
        }

        items.Add(Action(CopyOverlayUrlId, "Copy overlay URL", TrayMenuItemKind.CopyOverlayUrl));
        items.Add(Action(ClearCaptionsId, "Clear captions", TrayMenuItemKind.ClearCaptions));
        items.Add(Separator(2));
        items.Add(Action(QuitId, "Quit", TrayMenuItemKind.Quit));
        return new TrayMenuModel(items, ToolTip(languages, status));
    }

    /// <summary>Carries out a click on the item with <paramref name="itemId"/> (from a model this menu built).</summary>
    /// <exception cref="ArgumentException">The id names no item, or a language or speaker the sidecar does not know.</exception>
    /// <exception cref="InvalidOperationException">The sidecar refused to change the language or the speaker.</exception>
    public async Task ClickAsync(string itemId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        switch (itemId)
        {
            case OpenControlPageId:
                _shell.OpenUrl(_controlUrl);
                return;
            case OpenSettingsFolderId when _settingsFolder is not null:
                _shell.OpenFolder(_settingsFolder);
                return;
            case CopyOverlayUrlId:
                _shell.CopyToClipboard(_overlayUrl.AbsoluteUri);
                return;
            case ClearCaptionsId:
                await _surface.ClearCaptionsAsync(cancellationToken);
                return;
            case QuitId:
                _shell.Quit();
                return;
            case var language when language.StartsWith(LanguageIdPrefix, StringComparison.Ordinal):
                await ToggleLanguageAsync(language[LanguageIdPrefix.Length..], cancellationToken);
                return;
            case var speaker when speaker.StartsWith(SpeakerIdPrefix, StringComparison.Ordinal):
                await ToggleSpeakerAsync(speaker[SpeakerIdPrefix.Length..], cancellationToken);
                return;
            default:
                throw new ArgumentException($"The tray menu has no item '{itemId}'; ids come from TrayMenu.Build().", nameof(itemId));
        }
    }

    /// <summary>
    /// The tooltip, for example <c>CaptionSidecar: en on, es off; OBS connected; muted: Bob</c>, cut to
    /// <see cref="MaxToolTipLength"/> characters.
    /// </summary>
    internal static string ToolTip(IReadOnlyList<LanguageState> languages, ControlStatus status)
    {
        var text = new StringBuilder("CaptionSidecar: ");
        text.AppendJoin(", ", languages.Select(l => $"{l.Code} {(l.Enabled ? "on" : "off")}"));
        if (languages.Count == 0)
        {
            text.Append("no languages");
        }

        text.Append("; OBS ").Append(status.ObsState);
        // A muted speaker says nothing on any output; the tooltip says why.
        var muted = (status.Speakers ?? []).Where(s => !s.Captioned).Select(s => s.Label ? s.Name : s.Input).ToList();
        if (muted.Count > 0)
        {
            text.Append("; muted: ").AppendJoin(", ", muted);
        }

        if (status.RecentErrors.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"; {status.RecentErrors.Count} error{(status.RecentErrors.Count == 1 ? "" : "s")}");
        }

        return text.Length <= MaxToolTipLength ? text.ToString() : string.Concat(text.ToString(0, MaxToolTipLength - 1), "…");
    }

    /// <summary>
    /// The status lines at the top of the menu, from the same <see cref="ControlStatus"/> as <c>/api/status</c>: the
    /// caption engine's connection, OBS, and who is muted (by the OBS mic or by a moderator); only lines with something
    /// to say are shown, the first two always.
    /// </summary>
    internal static IEnumerable<TrayMenuItem> StatusItems(ControlStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        yield return StatusItem("status-captions", CaptionsLine(status));
        yield return StatusItem("status-obs", "OBS: " + ObsLine(status.ObsState));
        if (status.YouTube is { } youTube && (youTube.On || youTube.Host is not null))
        {
            yield return StatusItem("status-youtube", "YouTube: " + YouTubeLine(youTube));
        }
        var mutedInObs = (status.Speakers ?? []).Where(s => s.MutedInObs == true).Select(SpeakerName).ToList();
        if (status.Muted == true || mutedInObs.Count > 0)
        {
            yield return StatusItem("status-obs-muted", mutedInObs.Count > 0 && status.Muted != true
                ? "Mic muted in OBS: " + string.Join(", ", mutedInObs)
                : "Mic muted in OBS: captions paused");
        }

        var muted = (status.Speakers ?? []).Where(s => !s.Captioned).Select(SpeakerName).ToList();
        if (muted.Count > 0)
        {
            yield return StatusItem("status-muted", "Muted: " + string.Join(", ", muted));
        }
    }

    /// <summary>The YouTube output in a few words: off, on (posting a language), or paused by a refusal.</summary>
    internal static string YouTubeLine(YouTubeOutputStatus youTube) => youTube switch
    {
        { On: false } => "off",
        { State: "refused" } => "paused (refused: see the control page)",
        { State: "retrying" } => $"{youTube.Language}, retrying",
        _ => $"on ({youTube.Language})",
    };

    private static string CaptionsLine(ControlStatus status)
    {
        if (status.Engine == EngineChoice.TestPattern)
        {
            return "Captions: test pattern";
        }

        var states = status.Tracks.Select(t => t.State).ToList();
        var word = states switch
        {
            [] => "no language on",
            _ when states.Contains(TrackSessionState.Failed) => "failed",
            _ when states.Any(s => s is TrackSessionState.Starting or TrackSessionState.Connecting or TrackSessionState.Reconnecting) => "connecting",
            _ when states.Contains(TrackSessionState.Connected) => "connected",
            _ => "stopped",
        };
        return "Realtime: " + word;
    }

    private static string ObsLine(string state) => state switch
    {
        "off" => "off",
        "connected" => "connected",
        "connecting" => "connecting",
        "authenticationfailed" => "password rejected",
        _ => "not connected",
    };

    private static string SpeakerName(SpeakerStatus speaker) => speaker.Label ? speaker.Name : speaker.Input;

    private static TrayMenuItem StatusItem(string id, string text) => new(id, text, Checked: false, Enabled: false, TrayMenuItemKind.Status);

    private async Task ToggleLanguageAsync(string code, CancellationToken cancellationToken)
    {
        // The state is read again at click time: the control page may have changed it since the menu was drawn.
        var language = _surface.GetLanguages().FirstOrDefault(l => l.Code == code)
            ?? throw new ArgumentException($"The tray menu names language '{code}', which the sidecar does not know; open the menu again.", nameof(code));
        if (!await _surface.SetLanguageEnabledAsync(code, !language.Enabled, cancellationToken))
        {
            throw new InvalidOperationException($"The sidecar refused to turn language '{code}' {(language.Enabled ? "off" : "on")}.");
        }
    }

    private async Task ToggleSpeakerAsync(string name, CancellationToken cancellationToken)
    {
        // Read again at click time, as for a language: a moderator on the control page may have changed it.
        var speaker = _surface.ReadSpeakers().FirstOrDefault(s => s.Name == name)
            ?? throw new ArgumentException($"The tray menu names speaker '{name}', whom the sidecar does not know; open the menu again.", nameof(name));
        if (await _surface.ChangeSpeakerAsync(name, !speaker.Captioned, cancellationToken) != SpeakerChange.Applied)
        {
            throw new InvalidOperationException($"The sidecar refused to {(speaker.Captioned ? "mute" : "caption")} speaker '{name}'.");
        }
    }

    private static TrayMenuItem Separator(int index) =>
        new($"separator-{index}", string.Empty, Checked: false, Enabled: false, TrayMenuItemKind.Separator);

    private static TrayMenuItem Action(string id, string text, TrayMenuItemKind kind) =>
        new(id, text, Checked: false, Enabled: true, kind);
}
