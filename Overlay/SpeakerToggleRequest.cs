namespace CaptionSidecar.Overlay;

/// <summary>Body of <c>PUT /api/speakers/{name}</c>.</summary>
/// <param name="Captioned">True to caption the speaker, false to mute them (none of their audio is sent); required.</param>
public sealed record SpeakerToggleRequest(bool? Captioned);
