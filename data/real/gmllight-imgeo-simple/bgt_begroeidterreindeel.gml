<?xml version="1.0" encoding="UTF-8"?><gml:FeatureCollection xsi:schemaLocation="http://www.geostandaarden.nl/imgeo/2.1/simple/gml31 imgeo-simple-2.1-gml31.xsd http://www.opengis.net/gml http://schemas.opengis.net/gml/3.1.1/base/gml.xsd" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:imgeo-s="http://www.geostandaarden.nl/imgeo/2.1/simple/gml31" xmlns:gml="http://www.opengis.net/gml" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<gml:featureMember>
<imgeo-s:BegroeidTerreindeel gml:id="bc2199306-ffd9-11e5-8acc-1fc21a78c5fd">
<imgeo-s:objectBeginTijd>2015-08-04</imgeo-s:objectBeginTijd>
<imgeo-s:identificatie.namespace>NL.IMGeo</imgeo-s:identificatie.namespace>
<imgeo-s:identificatie.lokaalID>L0001.3f396fc07e114bd0aa77d02091a427a2</imgeo-s:identificatie.lokaalID>
<imgeo-s:tijdstipRegistratie>2015-12-18T09:17:58.000</imgeo-s:tijdstipRegistratie>
<imgeo-s:LV-publicatiedatum>2016-03-17T00:13:17.000</imgeo-s:LV-publicatiedatum>
<imgeo-s:bronhouder>L0001</imgeo-s:bronhouder>
<imgeo-s:inOnderzoek>false</imgeo-s:inOnderzoek>
<imgeo-s:relatieveHoogteligging>0</imgeo-s:relatieveHoogteligging>
<imgeo-s:bgt-status>bestaand</imgeo-s:bgt-status>
<imgeo-s:opTalud>false</imgeo-s:opTalud>
<imgeo-s:bgt-fysiekVoorkomen>transitie</imgeo-s:bgt-fysiekVoorkomen>
<imgeo-s:geometrie2d>
<gml:Polygon>
<gml:exterior>
<gml:LinearRing>
<gml:posList>113339.973 488319.562 113302.261 488319.018 113275.869 488318.984 113273.593 488318.915 113267.458 488318.810 113264.675 488318.762 113159.633 488317.947 113157.869 488317.060 113156.076 488315.416 113155.467 488313.049 113155.830 488261.152 113156.490 488182.890 113157.311 488060.425 113157.175 487998.132 113347.530 487999.585 113347.368 488035.139 113349.876 488060.513 113348.196 488267.685 113339.973 488319.562</gml:posList>
</gml:LinearRing>
</gml:exterior>
</gml:Polygon>
</imgeo-s:geometrie2d>
</imgeo-s:BegroeidTerreindeel>
</gml:featureMember>
<gml:featureMember>
<imgeo-s:BegroeidTerreindeel gml:id="bc21eea32-ffd9-11e5-8acc-1fc21a78c5fd">
<imgeo-s:objectBeginTijd>2015-12-02</imgeo-s:objectBeginTijd>
<imgeo-s:identificatie.namespace>NL.IMGeo</imgeo-s:identificatie.namespace>
<imgeo-s:identificatie.lokaalID>G0363.8eb3b4b5521b4807b0194022250ebfed</imgeo-s:identificatie.lokaalID>
<imgeo-s:tijdstipRegistratie>2015-12-14T12:08:37.000</imgeo-s:tijdstipRegistratie>
<imgeo-s:LV-publicatiedatum>2016-03-17T00:13:17.000</imgeo-s:LV-publicatiedatum>
<imgeo-s:bronhouder>G0363</imgeo-s:bronhouder>
<imgeo-s:inOnderzoek>false</imgeo-s:inOnderzoek>
<imgeo-s:relatieveHoogteligging>0</imgeo-s:relatieveHoogteligging>
<imgeo-s:bgt-status>bestaand</imgeo-s:bgt-status>
<imgeo-s:opTalud>false</imgeo-s:opTalud>
<imgeo-s:bgt-fysiekVoorkomen>groenvoorziening</imgeo-s:bgt-fysiekVoorkomen>
<imgeo-s:geometrie2d>
<gml:Polygon>
<gml:exterior>
<gml:LinearRing>
<gml:posList>113773.419 488058.352 113773.052 488058.362 113770.475 488058.202 113769.971 488055.689 113770.504 487998.309 113764.461 487998.214 113758.537 487998.128 113758.527 487997.842 113756.810 487997.841 113756.798 487998.109 113752.378 487998.068 113724.461 487998.705 113696.280 487998.249 113630.436 487997.205 113601.069 487996.619 113567.123 487995.911 113524.199 487995.785 113488.990 487995.366 113449.864 487994.420 113423.246 487994.084 113417.526 487994.629 113415.326 487995.890 113415.018 488033.533 113425.088 488034.340 113425.086 488035.667 113413.609 488034.917 113413.743 488015.458 113413.695 487995.016 113417.001 487993.244 113450.045 487993.025 113489.186 487993.589 113495.218 487993.893 113499.090 487993.581 113524.435 487994.055 113567.255 487994.412 113601.049 487995.002 113630.407 487995.080 113693.923 487995.410 113724.908 487995.858 113752.440 487996.022 113764.586 487996.473 113776.553 487996.403 113777.481 487997.036 113777.182 488024.907 113776.392 488058.269 113773.419 488058.352</gml:posList>
</gml:LinearRing>
</gml:exterior>
<gml:interior>
<gml:LinearRing>
<gml:posList>113771.629 487999.807 113771.276 488055.811 113772.376 488056.002 113773.323 488056.053 113773.387 488055.835 113773.941 488055.803 113774.602 488000.443 113774.116 487999.631 113773.834 487999.565 113772.861 487999.408 113772.721 487999.369 113771.629 487999.807</gml:posList>
</gml:LinearRing>
</gml:interior>
</gml:Polygon>
</imgeo-s:geometrie2d>
</imgeo-s:BegroeidTerreindeel>
</gml:featureMember>
</gml:FeatureCollection>
