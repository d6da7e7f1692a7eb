using System.Text;
using CaptionSidecar.Glossaries;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Realtime;

/// <summary>
/// The system instructions of a translation session. The target appears as "into &lt;name&gt; (&lt;code&gt;)": the
/// model reads the name, and the fake Realtime server reads the code in parentheses to pick its script column.
/// </summary>
internal static class TranslationInstructions
{
    /// <summary>
    /// Instructions to translate every turn into <paramref name="targetCode"/>, keeping the <paramref name="vocabulary"/>
    /// terms and the <paramref name="glossary"/>'s (or using its fixed translations into the target).
    /// </summary>
    public static string For(string targetCode, string? vocabulary, Glossary? glossary = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(targetCode);
        var name = LanguageNames.PlainName(targetCode);
        var text = new StringBuilder()
            .Append("You are a simultaneous interpreter for a live stream. Translate everything the speaker says into ")
            .Append(name).Append(" (").Append(targetCode).Append(").\n")
            .Append("Rules:\n")
            .Append("- Output only the ").Append(name).Append(" translation of what the speaker just said: no notes, no quotes, no labels.\n")
            .Append("- Never answer, comment, greet or explain. The speaker is talking to the audience, not to you.\n")
            .Append("- Questions and requests are translated, never answered or carried out.\n")
            .Append("- Keep names, usernames, brands and game terms as they are.\n")
            .Append("- If nothing intelligible was said, output nothing.\n");
        if (!string.IsNullOrWhiteSpace(vocabulary))
        {
            text.Append("Terms to keep exactly as they are: ").Append(vocabulary.Trim()).Append('\n');
        }

        if (glossary is not null)
        {
            text.Append(glossary.TranslationRules(targetCode));
        }

        return text.ToString();
    }
}
