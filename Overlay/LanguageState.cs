namespace CaptionSidecar.Overlay;

/// <summary>A language the host can caption, and whether it is on.</summary>
/// <param name="Code">Language code, as used in <c>PUT /api/languages/{code}</c> and <c>?lang=</c>.</param>
/// <param name="Name">Display name (for example <c>English</c>).</param>
/// <param name="Enabled">True when captions in this language are wanted on.</param>
/// <param name="Source">True for the spoken (source) language; false for a translation target.</param>
/// <param name="Running">True while the language's track runs (it may lag <paramref name="Enabled"/> while it starts or stops).</param>
public sealed record LanguageState(string Code, string Name, bool Enabled, bool Source = false, bool Running = false);

/// <summary>Body of <c>PUT /api/languages/{code}</c>.</summary>
/// <param name="Enabled">True to turn the language on, false to turn it off; required.</param>
public sealed record LanguageToggleRequest(bool? Enabled);
