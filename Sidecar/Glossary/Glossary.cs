using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace CaptionSidecar.Glossaries;

/// <summary>One glossary term and its fixed translations by language code (for example <c>es</c>).</summary>
/// <param name="Term">The term as spoken and written in the source language.</param>
/// <param name="Translations">Fixed translations by language code; a language without one keeps the term as it is.</param>
public sealed record GlossaryTerm(string Term, ImmutableSortedDictionary<string, string> Translations);

/// <summary>
/// The terms the transcription should recognise and the translations should keep (names, game terms, channel
/// jargon), read from a small UTF-8 text file: one term per line; a line starting with <c>#</c> is a comment and blank
/// lines are ignored; optional fixed translations follow the term, each <c>| code: translation</c>, for example
/// <c>Ranked mode | es: modo clasificatoria | fr: mode classé</c> (a term cannot contain <c>|</c>; a language without
/// a fixed translation keeps the term as it is). Immutable: a changed file gives a new glossary.
/// </summary>
public sealed class Glossary
{
    /// <summary>The service's limit on a transcription prompt, in characters.</summary>
    public const int PromptLimit = 1024;

    private Glossary(ImmutableArray<GlossaryTerm> terms) => Terms = terms;

    /// <summary>A glossary without terms.</summary>
    public static Glossary Empty { get; } = new([]);

    /// <summary>The terms, in file order.</summary>
    public ImmutableArray<GlossaryTerm> Terms { get; }

    /// <summary>Reads a glossary from its text; throws <see cref="FormatException"/> naming the first malformed line.</summary>
    public static Glossary Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var terms = ImmutableArray.CreateBuilder<GlossaryTerm>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var parts = line.Split('|');
            var term = parts[0].Trim();
            if (term.Length == 0)
            {
                throw Malformed(lineNumber, "the term before the first '|' is empty");
            }

            if (!seen.Add(term))
            {
                throw Malformed(lineNumber, $"'{term}' is already listed above");
            }

            var translations = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            foreach (var part in parts.Skip(1))
            {
                var colon = part.IndexOf(':', StringComparison.Ordinal);
                var code = colon < 0 ? string.Empty : part[..colon].Trim().ToLowerInvariant();
                var translation = colon < 0 ? string.Empty : part[(colon + 1)..].Trim();
                if (code.Length is < 2 or > 11 || !code.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') || translation.Length == 0)
                {
                    throw Malformed(lineNumber, $"'{part.Trim()}' is not a fixed translation such as 'es: modo clasificatoria'");
                }

                if (!translations.TryAdd(code, translation))
                {
                    throw Malformed(lineNumber, $"the language '{code}' has two translations");
                }
            }

            terms.Add(new GlossaryTerm(term, translations.ToImmutable()));
        }

        return new Glossary(terms.ToImmutable());
    }

    /// <summary>
    /// The transcription prompt: <paramref name="prompt"/> (the <c>--prompt</c> vocabulary) followed by the terms.
    /// May be longer than <see cref="PromptLimit"/>; the options validation refuses such a glossary at start.
    /// </summary>
    public string? TranscriptionPrompt(string? prompt)
    {
        var text = prompt?.Trim();
        if (Terms.IsEmpty)
        {
            return string.IsNullOrEmpty(text) ? null : text;
        }

        var terms = string.Join(", ", Terms.Select(t => t.Term));
        return string.IsNullOrEmpty(text) ? terms : $"{text} {terms}";
    }

    /// <summary>The lines a translation into <paramref name="targetCode"/> adds to its instructions; empty without terms.</summary>
    public string TranslationRules(string targetCode)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(targetCode);
        if (Terms.IsEmpty)
        {
            return string.Empty;
        }

        // A fixed translation for "pt" also serves a "pt-BR" target.
        var primary = targetCode.Split('-')[0];
        var kept = new List<string>();
        var fixedOnes = new StringBuilder();
        foreach (var term in Terms)
        {
            if (term.Translations.TryGetValue(targetCode.ToLowerInvariant(), out var fixedTranslation) || term.Translations.TryGetValue(primary, out fixedTranslation))
            {
                fixedOnes.Append(CultureInfo.InvariantCulture, $"- {term.Term} => {fixedTranslation}\n");
            }
            else
            {
                kept.Add(term.Term);
            }
        }

        var rules = new StringBuilder();
        if (kept.Count > 0)
        {
            rules.Append("Glossary terms to keep exactly as they are: ").AppendJoin(", ", kept).Append('\n');
        }

        if (fixedOnes.Length > 0)
        {
            rules.Append("Glossary terms with a fixed translation (always use it):\n").Append(fixedOnes);
        }

        return rules.ToString();
    }

    private static FormatException Malformed(int line, string why) =>
        new(string.Create(CultureInfo.InvariantCulture, $"line {line}: {why}."));
}
